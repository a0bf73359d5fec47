import { definePack, type PackContext, type PackInstance } from '@brainmesh/node';
import { containerTools } from './containers.js';
import { Engine } from './engine.js';
import { engineTools } from './engine-tools.js';
import { type ContainersSettings, containersSettingsSchema } from './settings.js';
import { streamTools } from './streams.js';

/**
 * Containers on the operator's machine, through the Docker Engine API on a unix socket (Docker,
 * or podman's Docker-compatible service): list, inspect, logs followed as progress, create,
 * start, stop, restart, remove, exec, stats, images, networks, volumes and compose projects.
 * What destroys or runs something asks the user first. The engine need not be running when the
 * node starts: each call says so if it is not.
 */
export const pack = definePack({
  name: 'containers',
  version: '0.1.0',
  settings: containersSettingsSchema,
  env: { DOCKER_HOST: 'host' },
  create: (ctx) => createContainers(ctx),
});

export default pack;

export function createContainers(ctx: Pick<PackContext<ContainersSettings>, 'settings' | 'nodeName'>): PackInstance {
  const engine = new Engine(Engine.socketOf(ctx.settings.host));
  return {
    tools: [
      ...engineTools(engine),
      ...containerTools(engine, ctx.settings, ctx.nodeName),
      ...streamTools(engine, ctx.settings),
    ],
  };
}

export { CREATED_BY_LABEL } from './containers.js';

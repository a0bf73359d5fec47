// The hub process, as `brainmesh hub` and `npm start` run it.
import { createLogger, type ProcessSpec, portFlag, tellSupervisor } from '@brainmesh/shared';
import { loadHubConfig } from './config.js';
import { startHub } from './hub.js';

export const hubProcess: ProcessSpec = {
  name: 'hub',
  usage: `usage: brainmesh hub [--config FILE] [--port N] [--host ADDR]

Starts the brainmesh hub. Storage is embedded under $BRAINMESH_HOME (default ./.brainmesh)
unless DATABASE_URL and REDIS_URL name real servers.

example: brainmesh hub --config configs/hub.yaml --port 8080`,
  options: {
    config: { type: 'string', short: 'c' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
  },
  start: async (flags) => {
    const config = loadHubConfig({
      file: flags.config as string | undefined,
      env: process.env,
      overrides: { 'server.port': portFlag(flags.port), 'server.host': flags.host },
    });
    const logger = createLogger({ name: 'hub', level: config.log.level, format: config.log.format });
    const hub = await startHub(config, logger);
    tellSupervisor({ type: 'ready', url: hub.url, storage: hub.storage });
    hub.onNodeUp((node) => tellSupervisor({ type: 'node-up', node }));
    return hub;
  },
};

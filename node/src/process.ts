// A node process, as `brainmesh node --config configs/<name>.yaml` runs it.
import { createLogger, type ProcessSpec, portFlag, tellSupervisor } from '@brainmesh/shared';
import { loadNodeConfig } from './config.js';
import { startNode } from './node.js';
import { loadPacks } from './pack-loader.js';

export const nodeProcess: ProcessSpec = {
  name: 'node',
  usage: `usage: brainmesh node --config FILE [--port N] [--host ADDR]

Starts a brainmesh node: its tool packs and mounted MCP servers, served to the hub.
On the first start it enrols with a one-time token (hub.enrolmentToken in the config, or
BRAINMESH_ENROLMENT_TOKEN); afterwards it trusts only that hub's keys.

example: brainmesh node --config configs/devmcp.yaml`,
  options: {
    config: { type: 'string', short: 'c' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
  },
  start: async (flags) => {
    const config = loadNodeConfig({
      file: flags.config as string | undefined,
      env: process.env,
      overrides: { 'server.port': portFlag(flags.port), 'server.host': flags.host },
    });
    // Before anything starts: a pack that is not there, or settings it refuses, stop the node in one line.
    const packs = await loadPacks(config, { file: flags.config as string | undefined, env: process.env });
    const logger = createLogger({
      name: `node:${config.node.name}`,
      level: config.log.level,
      format: config.log.format,
    });
    const node = await startNode(config, logger, packs);
    tellSupervisor({ type: 'ready', url: node.url, storage: node.storage });
    return node;
  },
};

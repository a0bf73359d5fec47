import { readFileSync } from 'node:fs';

/** The hub's version, as its package says: what `brainmesh status` and MCP's serverInfo show. */
export const HUB_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

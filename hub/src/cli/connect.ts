import { parseArgs } from 'node:util';
import { createLogger, isBrainmeshError } from '@brainmesh/shared';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { resolveTarget, UsageProblem } from './admin-client.js';
import { StdioBridge } from './bridge.js';
import type { Io } from './command.js';

export const CONNECT_USAGE = `usage: brainmesh connect [--hub URL] [--api-key KEY]

The stdio bridge for Claude Desktop and other clients that start MCP servers as commands: MCP over
stdin/stdout on one side, the hub's Streamable HTTP endpoint on the other. It reconnects on its own
when the hub restarts. Only MCP goes to stdout; its log goes to stderr.

flags:
  --hub URL       the hub (default $BRAINMESH_HUB, else http://127.0.0.1:8080)
  --api-key KEY   an API key (default $BRAINMESH_API_KEY, else the key in $BRAINMESH_HOME/operator-key)

example (claude_desktop_config.json):
  { "mcpServers": { "brainmesh": { "command": "npx",
      "args": ["brainmesh", "connect", "--hub", "http://127.0.0.1:8080"],
      "env": { "BRAINMESH_API_KEY": "bm_..." } } } }`;

export async function connectCommand(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
): Promise<number> {
  let flags: { hub?: string; 'api-key'?: string; help?: boolean };
  try {
    flags = parseArgs({
      args: argv,
      options: { hub: { type: 'string' }, 'api-key': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    io.err(`brainmesh connect: ${(err as Error).message}\n${CONNECT_USAGE}\n`);
    return 2;
  }
  if (flags.help === true) {
    // Help is asked for by a person at a terminal, not by an MCP client, so stdout is fine here.
    io.out(`${CONNECT_USAGE}\n`);
    return 0;
  }
  let target: { hub: string; apiKey: string };
  try {
    target = resolveTarget({ hub: flags.hub, apiKey: flags['api-key'] }, env, process.cwd());
  } catch (err) {
    if (err instanceof UsageProblem || isBrainmeshError(err)) {
      io.err(`brainmesh connect: ${err.message}\n`);
      return err instanceof UsageProblem ? 2 : 1;
    }
    throw err;
  }
  const hubUrl = new URL(target.hub);
  if (hubUrl.pathname === '/' || hubUrl.pathname === '') hubUrl.pathname = '/mcp';

  const logger = createLogger({
    name: 'connect',
    destination: 2,
    level: (env.BRAINMESH_LOG_LEVEL as 'info' | undefined) ?? 'info',
    format: env.BRAINMESH_LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
  });
  const bridge = new StdioBridge({ hubUrl, apiKey: target.apiKey, downstream: new StdioServerTransport(), logger });
  await bridge.start();
  logger.info({ hub: hubUrl.origin }, 'bridge ready on stdio');
  // The client closing stdin (Claude Desktop quitting) ends the bridge, and its hub session.
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await bridge.close();
  logger.flush();
  return 0;
}

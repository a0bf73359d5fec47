#!/usr/bin/env node
// The brainmesh program. Each subcommand's code lives in its package; this file only loads
// TypeScript (tsx) and dispatches, so `npx brainmesh …` works from a fresh `npm ci`.
import { register } from 'tsx/esm/api';

register();

const USAGE = `usage: brainmesh <command> [flags]

commands:
  up      run the local mesh     brainmesh up            (the hub and every node in configs/mesh.yaml)
  connect stdio bridge           brainmesh connect --hub URL   (for Claude Desktop)
  hub     run the hub            brainmesh hub --config configs/hub.yaml
  node    run one node           brainmesh node --config configs/devmcp.yaml
  status  the mesh at a glance   brainmesh status
  nodes   manage nodes           brainmesh nodes enroll|list|show|disable|enable|remove|rotate-keys
  keys    manage API keys        brainmesh keys create|list|revoke
  tools   find tools             brainmesh tools search QUERY
  audit   the audit trail        brainmesh audit search|tail|verify|lag
  users   operator accounts      brainmesh users create NAME   (for OAuth sign-in)

Run "brainmesh <command> --help" for a command's flags.`;

const commands = {
  hub: async () => (await import('../hub/src/process.ts')).hubProcess,
  node: async () => (await import('../node/src/process.ts')).nodeProcess,
};

// Commands that run in this process and exit with the code they return: the operator commands,
// and up and connect, which supervise or bridge until stopped. The ones above run a server.
const oneShot = {
  up: async () => (await import('../hub/src/cli/up.ts')).upCommand,
  connect: async () => (await import('../hub/src/cli/connect.ts')).connectCommand,
  status: async () => (await import('../hub/src/cli/status.ts')).statusCommand,
  nodes: async () => (await import('../hub/src/cli/nodes.ts')).nodesCommand,
  tools: async () => (await import('../hub/src/cli/tools.ts')).toolsCommand,
  audit: async () => (await import('../hub/src/cli/audit.ts')).auditCommand,
  keys: async () => (await import('../hub/src/cli/keys.ts')).keysCommand,
  users: async () => (await import('../hub/src/cli/users.ts')).usersCommand,
};

const [command, ...args] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(command === undefined ? 2 : 0);
}
if (oneShot[command] !== undefined) {
  const run = await oneShot[command]();
  const io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
  process.exitCode = await run(args, process.env, io);
} else if (commands[command] === undefined) {
  process.stderr.write(`brainmesh: unknown command "${command}"\n${USAGE}\n`);
  process.exitCode = 2;
} else {
  const { runProcess } = await import('../shared/src/process-main.ts');
  runProcess({ ...(await commands[command]()), name: `brainmesh ${command}` }, args);
}

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
  nodes   manage nodes           brainmesh nodes enroll|list|show|disable|enable|remove
  keys    manage API keys        brainmesh keys create|list|revoke
  users   operator accounts      brainmesh users create NAME   (for OAuth sign-in)

Run "brainmesh <command> --help" for a command's flags.`;

const commands = {
  hub: async () => (await import('../hub/src/process.ts')).hubProcess,
  node: async () => (await import('../node/src/process.ts')).nodeProcess,
};

// Commands that do one thing and exit, as opposed to the long-running processes above.
const oneShot = {
  up: async () => (await import('../hub/src/cli/up.ts')).upCommand,
  connect: async () => (await import('../hub/src/cli/connect.ts')).connectCommand,
  nodes: async () => (await import('../hub/src/cli/nodes.ts')).nodesCommand,
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

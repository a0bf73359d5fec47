import { adminRequest, UsageProblem } from './admin-client.js';
import { type ActionContext, type CommandSpec, type Io, runCommand, table } from './command.js';
import { linkText } from './status.js';

export const NODES_USAGE = `usage: brainmesh nodes <enroll|list|show|disable|enable|remove|rotate-keys|reset-circuit> [NAME] [flags]

  enroll NAME [--ttl MINUTES]   make a one-time enrolment token for a new node
  list                          every node, its status and tools
  show NAME                     one node in detail, its circuit included
  disable NAME | enable NAME    take a node out of the mesh, or bring it back (its circuit closes)
  remove NAME                   forget a node; its links stop working at once
  rotate-keys NAME              give a node a new signing key; the one before stays valid
                                until the next rotation, older ones are retired
  reset-circuit NAME            close a node's circuit now instead of waiting for a trial call
                                (on the hub replica that answers)

flags:
  --hub URL        the hub (default $BRAINMESH_HUB, else http://127.0.0.1:8080)
  --api-key KEY    an admin key (default $BRAINMESH_API_KEY, else the local operator key)
  --json           print JSON instead of text

example: brainmesh nodes enroll medtainer
         brainmesh nodes rotate-keys medtainer --json`;

interface NodeView {
  id: string;
  url: string | null;
  status: string;
  link: string;
  /** Which way the link runs, seen from the node: `dial-in` (the hub dialled it), `dial-out` (it dialled the hub); null with none yet. */
  direction: string | null;
  downSince: string | null;
  circuit?: Parameters<typeof linkText>[0]['circuit'];
  lastSeen: string | null;
  tools: number;
}

/** A field of `nodes show` as one line: lists joined, the circuit in words. */
function showValue(key: string, value: unknown): string {
  if (key === 'circuit' && typeof value === 'object' && value !== null) {
    const c = value as { state: string; since?: string; retryAt?: string };
    if (c.state === 'open') return `open since ${c.since}; tried again at ${c.retryAt}`;
    if (c.state === 'half-open') return `half-open (open since ${c.since}); the next call is a trial`;
    return c.state;
  }
  if (Array.isArray(value)) return value.join(', ');
  return value === null || value === undefined ? '-' : String(value);
}

const nodePath = (name: string) => `/admin/nodes/${encodeURIComponent(name)}`;

const toggle = (action: 'disable' | 'enable') => ({
  args: ['NAME'],
  run: async ({ args: [name], target, print }: ActionContext) => {
    const node = await adminRequest<NodeView>(target(), 'POST', `${nodePath(name!)}/${action}`);
    print(node, `${node.id} ${action}d\n`);
  },
});

export const nodesSpec: CommandSpec = {
  name: 'nodes',
  usage: NODES_USAGE,
  options: { ttl: { type: 'string' } },
  actions: {
    enroll: {
      args: ['NAME'],
      run: async ({ args: [name], flags, target, print }) => {
        const ttl = flags.ttl === undefined ? undefined : Number(flags.ttl);
        if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) {
          throw new UsageProblem(`--ttl must be a whole number of minutes, got "${flags.ttl}"`);
        }
        const made = await adminRequest<{ node: string; token: string; expiresAt: string }>(
          target(),
          'POST',
          '/admin/enrolments',
          {
            node: name,
            ...(ttl === undefined ? {} : { ttlMinutes: ttl }),
          },
        );
        print(
          made,
          `enrolment token for ${made.node} (works once, until ${made.expiresAt}):\n\n  ${made.token}\n\n` +
            `start the node with it:\n\n  BRAINMESH_ENROLMENT_TOKEN=${made.token} brainmesh node --config configs/${made.node}.yaml\n`,
        );
      },
    },
    list: {
      args: [],
      run: async ({ target, print }) => {
        const { nodes } = await adminRequest<{ nodes: NodeView[] }>(target(), 'GET', '/admin/nodes');
        const rows = nodes.map((n) => [
          n.id,
          n.status,
          linkText(n),
          n.direction ?? '-',
          String(n.tools),
          n.lastSeen ?? '-',
          n.url ?? '-',
        ]);
        print(
          nodes,
          nodes.length === 0
            ? 'no nodes yet: brainmesh nodes enroll NAME\n'
            : table([['NAME', 'STATUS', 'LINK', 'DIRECTION', 'TOOLS', 'LAST SEEN', 'URL'], ...rows]),
        );
      },
    },
    show: {
      args: ['NAME'],
      run: async ({ args: [name], target, print }) => {
        const node = await adminRequest<Record<string, unknown>>(target(), 'GET', nodePath(name!));
        const lines = Object.entries(node).map(([k, v]) => `${k.padEnd(11)} ${showValue(k, v)}`);
        print(node, `${lines.join('\n')}\n`);
      },
    },
    disable: toggle('disable'),
    enable: toggle('enable'),
    'rotate-keys': {
      args: ['NAME'],
      run: async ({ args: [name], target, print }) => {
        const done = await adminRequest<{ node: string; active: string; retired: string[]; keys: string[] }>(
          target(),
          'POST',
          `${nodePath(name!)}/rotate-keys`,
        );
        const before = done.keys.filter((kid) => kid !== done.active);
        print(
          done,
          `${done.node} signs with a new key: ${done.active}\n` +
            (before.length === 0 ? '' : `still valid until the next rotation: ${before.join(', ')}\n`) +
            (done.retired.length === 0 ? '' : `retired: ${done.retired.join(', ')}\n`),
        );
      },
    },
    'reset-circuit': {
      args: ['NAME'],
      run: async ({ args: [name], target, print }) => {
        const node = await adminRequest<NodeView>(target(), 'POST', `${nodePath(name!)}/reset-circuit`);
        print(node, `${node.id}: circuit closed; calls go through again\n`);
      },
    },
    remove: {
      args: ['NAME'],
      run: async ({ args: [name], target, print }) => {
        await adminRequest(target(), 'DELETE', nodePath(name!));
        print({ removed: name }, `${name} removed\n`);
      },
    },
  },
};

export const nodesCommand = (argv: string[], env: Readonly<Record<string, string | undefined>>, io: Io) =>
  runCommand(nodesSpec, argv, env, io);

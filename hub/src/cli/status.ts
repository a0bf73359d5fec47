import { adminRequest } from './admin-client.js';
import { type CommandSpec, type Io, runCommand, table } from './command.js';

export const STATUS_USAGE = `usage: brainmesh status [flags]

The mesh at a glance: the hub, its storage, every node with its link and tools. Exits 1 when
an enabled node is down or failing (its circuit open or half-open: the hub refuses its calls
until a trial call succeeds), so scripts and cron jobs can alert on it.

flags:
  --hub URL        the hub (default $BRAINMESH_HUB, else http://127.0.0.1:8080)
  --api-key KEY    an admin key (default $BRAINMESH_API_KEY, else the local operator key)
  --json           print JSON instead of text

example: brainmesh status --json`;

interface Status {
  hub: { id: string; version: string; uptimeSeconds: number; storage: { database: string; store: string } };
  nodes: { total: number; up: number; connecting: number; down: number; disabled: number; circuitOpen?: number };
  tools: number;
  list: Array<{
    id: string;
    status: string;
    link: string;
    tools: number;
    downSince: string | null;
    circuit?: CircuitView;
    url: string | null;
  }>;
}

type CircuitView =
  | { state: 'closed' }
  | { state: 'open'; since: string; retryAt: string }
  | { state: 'half-open'; since: string };

/** A node's link in a few words; one whose circuit is not closed is failing, whatever its link says. */
export function linkText(node: { link: string; downSince: string | null; circuit?: CircuitView | undefined }): string {
  const { circuit } = node;
  if (node.link === 'down' && node.downSince !== null) return `down since ${node.downSince}`;
  if (node.link !== 'up' || circuit === undefined || circuit.state === 'closed') return node.link;
  return circuit.state === 'open'
    ? `failing: circuit open since ${circuit.since}, tried again at ${circuit.retryAt}`
    : `failing: circuit half-open (open since ${circuit.since}), the next call is a trial`;
}

const STORAGE: Record<string, string> = {
  postgres: 'Postgres',
  embedded: 'embedded Postgres',
  redis: 'Redis',
  memory: 'in-process store',
};

/** 93784 s as "1d 2h", 125 s as "2m 5s": the two largest units are enough at a glance. */
export function duration(seconds: number): string {
  const parts: Array<[number, string]> = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor(seconds / 3600) % 24, 'h'],
    [Math.floor(seconds / 60) % 60, 'm'],
    [seconds % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ');
}

export const statusSpec: CommandSpec = {
  name: 'status',
  usage: STATUS_USAGE,
  options: {},
  actions: {
    args: [],
    run: async ({ target, print, failed }) => {
      const to = target();
      const status = await adminRequest<Status>(to, 'GET', '/admin/status');
      const { hub, nodes } = status;
      const failing = nodes.circuitOpen ?? 0;
      const counts = [
        `${nodes.up - failing} up`,
        ...(failing > 0 ? [`${failing} failing`] : []),
        ...(nodes.connecting > 0 ? [`${nodes.connecting} connecting`] : []),
        `${nodes.down} down`,
        `${nodes.disabled} disabled`,
      ];
      const rows = status.list.map((n) => [n.id, n.status, linkText(n), String(n.tools), n.url ?? '-']);
      print(
        status,
        `hub      ${hub.id} ${hub.version} at ${to.hub}, up ${duration(hub.uptimeSeconds)}\n` +
          `storage  ${STORAGE[hub.storage.database] ?? hub.storage.database}, ${STORAGE[hub.storage.store] ?? hub.storage.store}\n` +
          `nodes    ${nodes.total} (${counts.join(', ')})\n` +
          `tools    ${status.tools}\n` +
          (rows.length === 0
            ? '\nno nodes yet: brainmesh nodes enroll NAME\n'
            : `\n${table([['NAME', 'STATUS', 'LINK', 'TOOLS', 'URL'], ...rows])}`),
      );
      if (nodes.down > 0 || failing > 0) failed();
    },
  },
};

export const statusCommand = (argv: string[], env: Readonly<Record<string, string | undefined>>, io: Io) =>
  runCommand(statusSpec, argv, env, io);

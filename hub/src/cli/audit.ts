import { BrainmeshError } from '@brainmesh/shared';
import type { AuditEntry, AuditLag } from '../audit/query.js';
import type { NodeVerdict } from '../audit/verify.js';
import { adminRequest, type HubTarget, UsageProblem } from './admin-client.js';
import { type ActionContext, type CommandSpec, type Io, runCommand, table } from './command.js';

export const AUDIT_USAGE = `usage: brainmesh audit <search|tail|verify|lag> [flags]

  search     calls recorded anywhere in the mesh, newest first
  tail       calls as they land, until Ctrl-C
  verify     walk every node's hash chain and signed batches; names the first row that was
             changed, removed or inserted, and exits 1 if there is one
  lag        how far behind each node's shipping is

filters (search and tail; they combine):
  --node NAME          one node
  --tool NAME          a tool, as the node names it or as the hub does (devmcp__echo)
  --status S           ok, error or cancelled
  --principal P        who the call was made for (key:ID, user:NAME…)
  --trace ID           one call, by the trace id the hub and node share
  --since T --until T  a time range: ISO 8601, or an age such as 15m, 2h, 7d
  --text WORDS         words anywhere in the call's arguments
  --limit N            at most N events (search; 1-500, default 50)
  --cursor C           the next page, as a previous search printed it

flags:
  --hub URL        the hub (default $BRAINMESH_HUB, else http://127.0.0.1:8080)
  --api-key KEY    an admin key (default $BRAINMESH_API_KEY, else the local operator key)
  --json           print JSON instead of text (tail: one event per line)

example: brainmesh audit search --node medtainer --status error --since 24h`;

const AGE = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `15m` ago, or an ISO time as it stands. */
export function parseWhen(value: string, flag: string, now = Date.now()): string {
  const age = AGE.exec(value);
  if (age !== null) return new Date(now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS]).toISOString();
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d\d-\d\d/.test(value)) {
    throw new UsageProblem(
      `--${flag} must be an ISO time (2026-11-25T09:00:00Z) or an age (15m, 2h, 7d), got "${value}"`,
    );
  }
  return new Date(at).toISOString();
}

const FILTERS = ['node', 'tool', 'status', 'principal', 'trace', 'since', 'until', 'text'] as const;

function filterParams(flags: ActionContext['flags']): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = flags[name];
    if (typeof value !== 'string') continue;
    const key = name === 'trace' ? 'traceId' : name;
    params.set(key, name === 'since' || name === 'until' ? parseWhen(value, name) : value);
  }
  return params;
}

const line = (e: AuditEntry) => [e.at, e.node, e.tool, e.status, `${e.durationMs}ms`, e.principal, e.traceId];
const HEADER = ['AT', 'NODE', 'TOOL', 'STATUS', 'TOOK', 'PRINCIPAL', 'TRACE'];

export const auditSpec: CommandSpec = {
  name: 'audit',
  usage: AUDIT_USAGE,
  options: {
    ...Object.fromEntries(FILTERS.map((f) => [f, { type: 'string' as const }])),
    limit: { type: 'string' },
    cursor: { type: 'string' },
  },
  actions: {
    search: {
      args: [],
      run: async ({ flags, target, print }) => {
        const params = filterParams(flags);
        if (typeof flags.limit === 'string') {
          const limit = Number(flags.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
            throw new UsageProblem(`--limit must be a whole number from 1 to 500, got "${flags.limit}"`);
          }
          params.set('limit', String(limit));
        }
        if (typeof flags.cursor === 'string') params.set('cursor', flags.cursor);
        const page = await adminRequest<{ events: AuditEntry[]; nextCursor: string | null }>(
          target(),
          'GET',
          `/admin/audit?${params}`,
        );
        const more = page.nextCursor === null ? '' : `\nmore: add --cursor ${page.nextCursor}\n`;
        print(
          page,
          page.events.length === 0 ? 'no calls match\n' : `${table([HEADER, ...page.events.map(line)])}${more}`,
        );
      },
    },
    tail: {
      args: [],
      run: async (ctx) => {
        await tail(ctx.target(), filterParams(ctx.flags), ctx.flags.json === true, ctx.io);
      },
    },
    verify: {
      args: [],
      run: async ({ flags, target, print, failed }) => {
        const params = new URLSearchParams();
        if (typeof flags.node === 'string') params.set('node', flags.node);
        const result = await adminRequest<{ ok: boolean; nodes: NodeVerdict[] }>(
          target(),
          'GET',
          `/admin/audit/verify?${params}`,
        );
        const rows = result.nodes.map((n) => [
          n.node,
          String(n.rows),
          n.firstSeq === null ? '-' : `${n.firstSeq}-${n.lastSeq}`,
          String(n.batches),
          n.ok ? 'ok' : `${n.problem!.kind} at seq ${n.problem!.seq}: ${n.problem!.detail}`,
        ]);
        print(
          result,
          result.nodes.length === 0
            ? 'no audit rows yet\n'
            : table([['NODE', 'ROWS', 'SEQS', 'BATCHES', 'VERDICT'], ...rows]),
        );
        if (!result.ok) failed();
      },
    },
    lag: {
      args: [],
      run: async ({ target, print }) => {
        const { nodes } = await adminRequest<{ nodes: AuditLag[] }>(target(), 'GET', '/admin/audit/lag');
        const rows = nodes.map((n) => [
          n.node,
          String(n.committedSeq),
          String(n.backlog),
          n.lastBatchAt ?? '-',
          n.lastLagMs === null ? '-' : `${n.lastLagMs}ms`,
        ]);
        print(
          nodes,
          nodes.length === 0
            ? 'no audit rows yet\n'
            : table([['NODE', 'COMMITTED', 'BACKLOG', 'LAST BATCH', 'LAG'], ...rows]),
        );
      },
    },
  },
};

/**
 * Follows the hub's event stream until Ctrl-C, and after a dropped connection picks up after
 * the last event it printed, so nothing is shown twice or skipped.
 */
async function tail(target: HubTarget, filters: URLSearchParams, json: boolean, io: Io): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let after: number | undefined;
  let said = false;
  let failures = 0;
  try {
    while (!stop.signal.aborted) {
      const params = new URLSearchParams(filters);
      if (after !== undefined) params.set('after', String(after));
      try {
        const res = await fetch(new URL(`/admin/audit/tail?${params}`, target.hub), {
          headers: { authorization: `Bearer ${target.apiKey}`, accept: 'text/event-stream' },
          signal: stop.signal,
        });
        if (!res.ok || res.body === null) {
          const body = (await res.json().catch(() => ({}))) as { message?: string };
          const why = body.message ?? `HTTP ${res.status}`;
          if (res.status === 401) throw new BrainmeshError('UNAUTHENTICATED', `the hub refused the API key: ${why}`);
          if (res.status === 400) throw new UsageProblem(why);
          throw new BrainmeshError(res.status === 403 ? 'FORBIDDEN' : 'INTERNAL', why);
        }
        if (!said) io.err(`tailing the audit trail at ${target.hub} (Ctrl-C to stop)\n`);
        said = true;
        failures = 0;
        for await (const event of serverSentEvents(res.body)) {
          const row = JSON.parse(event.data) as AuditEntry;
          after = row.id;
          io.out(json ? `${JSON.stringify(row)}\n` : `${line(row).join('  ')}\n`);
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        if (err instanceof UsageProblem || err instanceof BrainmeshError) throw err;
        failures += 1;
        if (failures === 1) io.err(`lost the hub at ${target.hub}; reconnecting\n`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** failures, 10_000)));
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The `data` of each event in a text/event-stream body; comments and keep-alives are skipped. */
async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data !== '') yield { data };
      end = buffer.indexOf('\n\n');
    }
  }
}

export const auditCommand = (argv: string[], env: Readonly<Record<string, string | undefined>>, io: Io) =>
  runCommand(auditSpec, argv, env, io);

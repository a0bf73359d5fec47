/**
 * MCP gateways side by side: the same `echo` tool of the reference server-everything called
 * directly, through mcp-hub, and through a brainmesh hub and node; and the node's own devtools
 * `echo` through the hub and on the node directly. One run, one process tree, all on loopback.
 *
 *   npm run bench -- gateways
 *
 * The machine is shared and noisy, so paths are measured in turn, interleaved (each concurrency
 * level goes through every path, then again in reverse order), and compared by ratios too.
 * Settings, from the environment:
 *   BENCH_SECONDS=5          measured seconds per path, concurrency and round
 *   BENCH_WARMUP_SECONDS=1   calls before each measured window, not counted
 *   BENCH_JIT_SECONDS=10     before any window, each path at 16 clients, not counted: every
 *                            process is measured with its code compiled, as it runs for a user
 *   BENCH_ROUNDS=2           interleaved rounds per concurrency level
 *   BENCH_CLIENTS=1,16,64    concurrency levels: independent MCP sessions calling in a loop
 *   BENCH_STORAGE=both       embedded | real | both (real: Postgres and Redis, below)
 *   BENCH_PATHS=…            a comma-separated subset of: direct, mcp-hub, brainmesh, hub-echo, node-echo,
 *                            replicas (real storage only: the same mesh's hub and a second replica
 *                            of it behind HAProxy, e2e/support/haproxy.ts), no-metrics (a mesh
 *                            like brainmesh's with BRAINMESH_METRICS=false), tracing (one with
 *                            OpenTelemetry traces exported to an OTLP receiver in this process),
 *                            and baseline, when BENCH_BASELINE is set
 *   BENCH_BASELINE=<rev>     also measures brainmesh as built at that revision of this repository
 *                            (a worktree with its own npm ci, support/baseline.ts), side by side
 *   BENCH_CPU_PROF=<folder>  the hub and node processes write V8 CPU profiles there (.cpuprofile)
 *   DATABASE_URL, REDIS_URL  the real servers (default postgres://postgres@127.0.0.1:5432/test and
 *                            redis://127.0.0.1:6379); the hub and the node get schemas of their own,
 *                            dropped at the end
 */
import { availableParallelism, loadavg } from 'node:os';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHaproxy } from '../e2e/support/haproxy.js';
import { suiteScope } from '../e2e/support/mesh.js';
import { type OtlpReceiver, startOtlpReceiver } from '../e2e/support/otlp.js';
import { type Baseline, prepareBaseline } from './support/baseline.js';
import { type Brainmesh, type RealServers, startBrainmesh } from './support/brainmesh.js';
import { type Connect, findTool, httpSse, streamableHttp } from './support/clients.js';
import type { CpuSource } from './support/cpu.js';
import { closedLoop, type Window } from './support/load.js';
import { type Figures, figures } from './support/stats.js';
import { markdownTable, num } from './support/table.js';
import { startEverything, startMcpHub, type Upstream } from './support/upstreams.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const JIT_SECONDS = Number(process.env.BENCH_JIT_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LEVELS = (process.env.BENCH_CLIENTS ?? '1,16,64').split(',').map(Number);
const STORAGE = process.env.BENCH_STORAGE ?? 'both';
const CORES = availableParallelism();
const REAL: RealServers = {
  databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
};

/** Each process whose CPU is charged to calls, in table order. */
const PROCESSES = [
  'server-everything',
  'mcp-hub',
  'hub',
  'hub 2',
  'haproxy',
  'node',
  'baseline hub',
  'baseline node',
  'no-metrics hub',
  'no-metrics node',
  'tracing hub',
  'tracing node',
] as const;
type ProcessName = (typeof PROCESSES)[number];
/** Those that keep audit rows and counters (every hub and node): where Postgres and Redis work is charged from. */
const STORAGE_USERS: readonly ProcessName[] = PROCESSES.filter((p) => /(^| )(hub|node)( 2)?$/.test(p));
/** Machine-wide, whoever else uses them: shown for real storage, not added to the total. */
const SHARED_SERVERS = [
  { label: 'postgres*', command: 'postgres' },
  { label: 'redis*', command: 'redis-server' },
];

interface PathSpec {
  id: string;
  label: string;
  /** The processes a call goes through (the benchmark's own clients aside). */
  through: readonly ProcessName[];
  connect: Connect;
  /** Picks the tool out of the path's tools/list: gateways rename tools. */
  tool: (name: string) => boolean;
  args: Record<string, unknown>;
  /** What the tool's text answer contains, to check the path before measuring it. */
  answer: string;
}

interface Running {
  everything: Upstream;
  mcpHub?: Upstream;
  mesh?: Brainmesh;
  /** The same mesh as built at BENCH_BASELINE. */
  baseline?: Brainmesh;
  /** The mesh's hub and a second replica behind HAProxy (real storage). */
  replicas?: { connect: Connect; hub2: number; haproxy: number };
  /** Meshes like `mesh` but for one setting: metrics off, traces exported. */
  variants: Partial<Record<Variant, Brainmesh>>;
}

const VARIANTS = ['no-metrics', 'tracing'] as const;
type Variant = (typeof VARIANTS)[number];

const BASELINE: Baseline | undefined =
  process.env.BENCH_BASELINE === undefined ? undefined : prepareBaseline(process.env.BENCH_BASELINE);
const ALL_PATHS = [
  'direct',
  'mcp-hub',
  'brainmesh',
  'hub-echo',
  'node-echo',
  'replicas',
  ...VARIANTS,
  ...(BASELINE ? ['baseline'] : []),
];
const chosen = process.env.BENCH_PATHS?.split(',').map((p) => p.trim()) ?? ALL_PATHS;
const unknown = chosen.filter((p) => !ALL_PATHS.includes(p));
if (unknown.length > 0) {
  console.error(`BENCH_PATHS: unknown ${unknown.join(', ')}; have ${ALL_PATHS.join(', ')}`);
  process.exit(2);
}
const storages = STORAGE === 'both' ? ['embedded', 'real'] : [STORAGE];
if (!storages.every((s) => s === 'embedded' || s === 'real')) {
  console.error(`BENCH_STORAGE: embedded, real or both, not ${STORAGE}`);
  process.exit(2);
}

function pathsOf(running: Running): PathSpec[] {
  const { everything, mcpHub, mesh } = running;
  const ping = { message: 'ping' };
  const text = { text: 'ping' };
  const specs: PathSpec[] = [
    {
      id: 'direct',
      label: 'server-everything directly',
      through: ['server-everything'],
      connect: streamableHttp(everything.url),
      tool: (n) => n === 'echo',
      args: ping,
      answer: 'Echo: ping',
    },
  ];
  if (mcpHub !== undefined)
    specs.push({
      id: 'mcp-hub',
      label: 'mcp-hub → server-everything',
      through: ['mcp-hub', 'server-everything'],
      connect: httpSse(mcpHub.url),
      tool: (n) => n.endsWith('__echo'),
      args: ping,
      answer: 'Echo: ping',
    });
  if (mesh !== undefined) {
    const onNode = (n: string) => n.startsWith(`${mesh.nodeName}__`);
    specs.push(
      {
        id: 'brainmesh',
        label: 'brainmesh hub → node → server-everything',
        through: ['hub', 'node', 'server-everything'],
        connect: mesh.viaHub,
        tool: (n) => onNode(n) && n.endsWith('everything_echo'),
        args: ping,
        answer: 'Echo: ping',
      },
      {
        id: 'hub-echo',
        label: 'brainmesh hub → node (devtools echo)',
        through: ['hub', 'node'],
        connect: mesh.viaHub,
        tool: (n) => n === `${mesh.nodeName}__echo`,
        args: text,
        answer: 'ping',
      },
      {
        id: 'node-echo',
        label: 'node directly, signed as its hub (devtools echo)',
        through: ['node'],
        connect: mesh.direct,
        tool: (n) => n === 'echo',
        args: text,
        answer: 'ping',
      },
    );
  }
  const { replicas } = running;
  if (mesh !== undefined && replicas !== undefined)
    specs.push({
      id: 'replicas',
      label: 'brainmesh, 2 hub replicas behind HAProxy → node → server-everything',
      through: ['haproxy', 'hub', 'hub 2', 'node', 'server-everything'],
      connect: replicas.connect,
      tool: (n) => n.startsWith(`${mesh.nodeName}__`) && n.endsWith('everything_echo'),
      args: ping,
      answer: 'Echo: ping',
    });
  const variantLabels: Record<Variant, string> = {
    'no-metrics': 'brainmesh with metrics off → server-everything',
    tracing: 'brainmesh with traces exported (OTLP) → server-everything',
  };
  for (const variant of VARIANTS) {
    const other = running.variants[variant];
    if (other === undefined) continue;
    specs.push({
      id: variant,
      label: variantLabels[variant],
      through: [`${variant} hub`, `${variant} node`, 'server-everything'],
      connect: other.viaHub,
      tool: (n) => n.startsWith(`${other.nodeName}__`) && n.endsWith('everything_echo'),
      args: ping,
      answer: 'Echo: ping',
    });
  }
  const { baseline } = running;
  if (baseline !== undefined && BASELINE !== undefined)
    specs.push({
      id: 'baseline',
      label: `brainmesh at ${BASELINE.rev} (${BASELINE.commit.slice(0, 7)}) → server-everything`,
      through: ['baseline hub', 'baseline node', 'server-everything'],
      connect: baseline.viaHub,
      tool: (n) => n.startsWith(`${baseline.nodeName}__`) && n.endsWith('everything_echo'),
      args: ping,
      answer: 'Echo: ping',
    });
  return specs.filter((s) => chosen.includes(s.id));
}

/** The tool's name on this path, found by tools/list and checked by one call; or why the path does not work. */
async function probe(spec: PathSpec): Promise<{ name: string } | { why: string }> {
  let client: Client | undefined;
  try {
    client = await spec.connect();
    const name = await findTool(client, spec.label, spec.tool);
    const result = await client.callTool({ name, arguments: spec.args });
    const said = ((result.content as Array<{ text?: string }>) ?? []).map((c) => c.text ?? '').join('');
    if (result.isError === true || !said.includes(spec.answer)) return { why: `${name} answered ${said}` };
    return { name };
  } catch (err) {
    return { why: String(err) };
  } finally {
    await client?.close().catch(() => {});
  }
}

interface Measured {
  paths: PathSpec[];
  at(id: string, clients: number): Figures | undefined;
  notes: string[];
}

/** Every path at every level, the paths taken in turn within a level, in reverse order on odd rounds. */
async function measure(storage: string, running: Running): Promise<Measured> {
  const { everything, mcpHub, mesh, baseline, replicas, variants } = running;
  const cpu: CpuSource[] = [
    { label: 'server-everything', pid: everything.pid },
    ...(mcpHub === undefined ? [] : [{ label: 'mcp-hub', pid: mcpHub.pid }]),
    ...(mesh === undefined
      ? []
      : [
          { label: 'hub', pid: mesh.hub.proc.child.pid! },
          { label: 'node', pid: mesh.node.proc.child.pid! },
        ]),
    ...(replicas === undefined
      ? []
      : [
          { label: 'hub 2', pid: replicas.hub2 },
          { label: 'haproxy', pid: replicas.haproxy },
        ]),
    ...(baseline === undefined
      ? []
      : [
          { label: 'baseline hub', pid: baseline.hub.proc.child.pid! },
          { label: 'baseline node', pid: baseline.node.proc.child.pid! },
        ]),
    ...Object.entries(variants).flatMap(([variant, other]) => [
      { label: `${variant} hub`, pid: other.hub.proc.child.pid! },
      { label: `${variant} node`, pid: other.node.proc.child.pid! },
    ]),
    { label: 'clients', pid: process.pid },
    ...(storage === 'real' ? SHARED_SERVERS : []),
    { label: 'machine', machine: true },
  ];
  const notes: string[] = [];
  const paths: Array<PathSpec & { name: string }> = [];
  for (const spec of pathsOf(running)) {
    const found = await probe(spec);
    if ('why' in found) notes.push(`${spec.label}: left out, ${found.why}`);
    else paths.push({ ...spec, name: found.name });
  }

  // V8 compiles a process's hot code after thousands of calls, not dozens: measured from cold,
  // the first windows (c=1, the first level) were taken with TurboFan still compiling, a sixth of
  // each process's CPU, and the same path made twice the calls in its second round as in its first.
  for (const path of paths) {
    await closedLoop({
      connect: path.connect,
      call: (client) => client.callTool({ name: path.name, arguments: path.args }),
      clients: 16,
      warmupMs: JIT_SECONDS * 1000,
      measureMs: 0,
      cpu: [],
    });
    dropLogs(running);
  }

  const windows = new Map<string, Window[]>();
  for (const clients of LEVELS) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of round % 2 === 0 ? paths : [...paths].reverse()) {
        const window = await closedLoop({
          connect: path.connect,
          call: (client) => client.callTool({ name: path.name, arguments: path.args }),
          clients,
          warmupMs: WARMUP_SECONDS * 1000,
          measureMs: SECONDS * 1000,
          cpu,
        });
        dropLogs(running);
        const key = `${path.id}/${clients}`;
        windows.set(key, [...(windows.get(key) ?? []), window]);
        console.error(
          `  ${storage}, c=${clients}, round ${round + 1}/${ROUNDS}, ${path.id}: ` +
            `${num((window.calls / window.ms) * 1000, 0)} calls/s, ${window.errors} errors`,
        );
      }
    }
  }
  if (mesh !== undefined && mesh.hubSessions() > 0)
    notes.push(`MCP sessions opened through the hub in this run: ${mesh.hubSessions()}`);
  const results = new Map([...windows].map(([key, w]) => [key, figures(w)]));
  for (const [key, f] of results) if (f.firstError !== undefined) notes.push(`${key}: first error: ${f.firstError}`);
  return { paths, at: (id, clients) => results.get(`${id}/${clients}`), notes };
}

function dropLogs(running: Running): void {
  running.mesh?.dropLogs();
  running.baseline?.dropLogs();
  for (const other of Object.values(running.variants)) other.dropLogs();
}

/** How busy the machine was with other work while a path was measured, as % of all its cores. */
function outsidePercent(f: Figures): number {
  let ours = 0;
  for (const [label, perSecond] of f.cpuPerSecond) if (label !== 'machine') ours += perSecond;
  return ((f.cpuPerSecond.get('machine') ?? Number.NaN) - ours) / (10 * CORES);
}

function report(storage: string, { paths, at, notes }: Measured): void {
  const shared = storage === 'real' ? SHARED_SERVERS.map((s) => s.label) : [];
  const shown = PROCESSES.filter((p) => paths.some((path) => path.through.includes(p)));
  const rows: string[][] = [];
  for (const path of paths) {
    const usesStorage = path.through.some((p) => STORAGE_USERS.includes(p));
    for (const clients of LEVELS) {
      const f = at(path.id, clients);
      if (f === undefined) continue;
      const cpuOf = (label: string) => f.cpuPerCall.get(label);
      rows.push([
        path.label,
        String(clients),
        num(f.callsPerSecond, 0),
        num(f.p50),
        num(f.p99),
        String(f.errors),
        ...shown.map((p) => (path.through.includes(p) ? num(cpuOf(p)) : '–')),
        num(path.through.reduce((sum, p) => sum + (cpuOf(p) ?? 0), 0)),
        num(cpuOf('clients')),
        ...shared.map((label) => (usesStorage ? num(cpuOf(label)) : '–')),
        num(outsidePercent(f), 0),
      ]);
    }
  }
  console.log(`\n### ${storage === 'real' ? 'Real Postgres and Redis' : 'Embedded storage'}\n`);
  console.log(
    'Latency in ms; CPU columns in CPU milliseconds per completed call, – where the call does not pass.' +
      (shared.length > 0 ? ' * machine-wide: every process of that server, whoever it serves.' : '') +
      ` "outside %": the machine's CPU (${CORES} cores) that went to processes outside the benchmark during its windows.`,
  );
  console.log(
    `\n${markdownTable(
      [
        'path',
        'c',
        'calls/s',
        'p50',
        'p99',
        'errors',
        ...shown.map((p) => `CPU ${p}`),
        'CPU servers total',
        'CPU bench clients',
        ...shared.map((s) => `CPU ${s}`),
        'outside %',
      ],
      rows,
    )}`,
  );

  const measured = new Set(paths.map((p) => p.id));
  const pairs = (
    [
      ['brainmesh', 'mcp-hub'],
      ['replicas', 'brainmesh'],
      ['replicas', 'mcp-hub'],
      ['brainmesh', 'baseline'],
      ['brainmesh', 'no-metrics'],
      ['tracing', 'brainmesh'],
      ['baseline', 'mcp-hub'],
      ['mcp-hub', 'direct'],
      ['brainmesh', 'direct'],
      ['hub-echo', 'node-echo'],
    ] as const
  ).filter(([a, b]) => measured.has(a) && measured.has(b));
  const first = LEVELS[0]!;
  if (pairs.length > 0) {
    const ratio = (a: string, b: string, clients: number) =>
      num((at(a, clients)?.callsPerSecond ?? Number.NaN) / (at(b, clients)?.callsPerSecond ?? Number.NaN));
    const added = (a: string, b: string) => num((at(a, first)?.p50 ?? Number.NaN) - (at(b, first)?.p50 ?? Number.NaN));
    console.log(`\nRatios of calls/s, and p50 added at c=${first} (ms):\n`);
    console.log(
      markdownTable(
        ['path ÷ path', ...LEVELS.map((c) => `calls/s c=${c}`), `p50 added c=${first}`],
        pairs.map(([a, b]) => [`${a} ÷ ${b}`, ...LEVELS.map((c) => ratio(a, b, c)), added(a, b)]),
      ),
    );
  }
  if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
}

// Node 20's fetch (undici) adds an abort listener per request to the signal it is given, and
// removes it only once that request is garbage-collected; the SDK's client transports give every
// request of a session the same signal, so a fast session passes 1,500 listeners between two
// collections and each request past that warns. Bookkeeping in this process, not a measured
// figure: said once, not thousands of times.
let abortListenersTold = false;
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning' && warning.message.includes('[AbortSignal]')) {
    if (!abortListenersTold) console.error(`(once) ${warning.name}: ${warning.message}`);
    abortListenersTold = true;
    return;
  }
  console.error(`${warning.name}: ${warning.message}`);
});

let active: ReturnType<typeof suiteScope> | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every process`);
    void (active?.dispose() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

console.log(
  `\n${ROUNDS} interleaved rounds × ${SECONDS} s measured (after ${WARMUP_SECONDS} s warm-up) per path and ` +
    `concurrency; CPU from /proc/<pid>/stat over the measured windows, per completed call.`,
);
for (const storage of storages) {
  const scope = suiteScope();
  active = scope;
  try {
    console.error(`\n${storage} storage: starting processes`);
    const loadBefore = loadavg()[0]!;
    const everything = await startEverything();
    scope.after(everything.stop);
    const running: Running = { everything, variants: {} };
    if (chosen.includes('mcp-hub')) {
      running.mcpHub = await startMcpHub(everything.url);
      scope.after(running.mcpHub.stop);
    }
    if (chosen.some((p) => p === 'brainmesh' || p === 'hub-echo' || p === 'node-echo' || p === 'replicas')) {
      running.mesh = await startBrainmesh(scope, {
        mountUrl: everything.url,
        ...(storage === 'real' ? { real: REAL } : {}),
      });
    }
    // Replicas share storage; on embedded storage each process has its own, so there are none.
    if (chosen.includes('replicas') && storage === 'real' && running.mesh !== undefined) {
      const hub2 = await running.mesh.replica();
      const lb = await startHaproxy(scope, [
        { name: 'hub-1', url: running.mesh.hub.url },
        { name: 'hub-2', url: hub2.url },
      ]);
      running.replicas = {
        connect: streamableHttp(new URL('/mcp', lb.url).href, running.mesh.hub.key),
        hub2: hub2.proc.child.pid!,
        haproxy: lb.proc.pid!,
      };
    }
    if (BASELINE !== undefined && chosen.includes('baseline')) {
      running.baseline = await startBrainmesh(scope, {
        mountUrl: everything.url,
        entry: BASELINE.entry,
        label: 'baseline',
        ...(storage === 'real' ? { real: REAL } : {}),
      });
    }
    const real = storage === 'real' ? { real: REAL } : {};
    if (chosen.includes('no-metrics')) {
      running.variants['no-metrics'] = await startBrainmesh(scope, {
        mountUrl: everything.url,
        label: 'no-metrics',
        env: { BRAINMESH_METRICS: 'false' },
        ...real,
      });
    }
    let receiver: OtlpReceiver | undefined;
    if (chosen.includes('tracing')) {
      receiver = await startOtlpReceiver(scope, { keep: false });
      running.variants.tracing = await startBrainmesh(scope, {
        mountUrl: everything.url,
        label: 'tracing',
        env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
        ...real,
      });
    }
    const measured = await measure(storage, running);
    if (receiver !== undefined)
      measured.notes.push(`spans received by the OTLP receiver (in the bench process): ${receiver.received()}`);
    measured.notes.push(`load average (1 min) at the start and end: ${num(loadBefore)}, ${num(loadavg()[0])}`);
    report(storage, measured);
  } finally {
    await scope.dispose();
    active = undefined;
  }
}

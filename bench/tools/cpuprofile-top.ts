/**
 * Reads V8 .cpuprofile files (BENCH_CPU_PROF) and prints where the time went: self time by
 * function and by package (or project folder), as shares of the samples that were not idle.
 *
 *   npx tsx bench/tools/cpuprofile-top.ts <file.cpuprofile|folder> [top=25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [target, topArg] = process.argv.slice(2);
if (target === undefined) {
  console.error('usage: npx tsx bench/tools/cpuprofile-top.ts <file.cpuprofile|folder> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(target, f))
  : [target];

/** `pg-protocol`, `@modelcontextprotocol/sdk`, a project folder (`hub/src/mcp`), or `(v8)`. */
function owner(url: string): string {
  if (url === '') return '(v8/native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const m = /\/((shared|hub|node)\/.*)$/.exec(url);
  return m === null ? url.replace(/^file:\/\//, '') : m[1]!;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The nearest `depth` JavaScript frames above a node: who called into the native code. */
  const callers = (id: number, depth: number): string => {
    const out: string[] = [];
    for (let p = parent.get(id); p !== undefined && out.length < depth; p = parent.get(p)) {
      const f = byId.get(p)!.callFrame;
      if (f.url === '' || f.url.startsWith('node:')) continue;
      out.push(`${f.functionName || '(anonymous)'}@${owner(f.url).split('/').pop()}`);
    }
    return out.join(' < ');
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let busy = 0;
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    busy += us;
    const fn = `${functionName || '(anonymous)'} ${url === '' ? '' : `${owner(url)}:${lineNumber + 1}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const o = functionName === '(garbage collector)' ? '(gc)' : owner(url);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
  }
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  console.log(`\n${file}: ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s`);
  console.log('  by package or folder:');
  for (const [o, us] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${o}`);
  console.log('  by function (self):');
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${fn}`);
  // Native work (socket writes, hashing) named by the JavaScript that asked for it.
  const nativeTop = [...byFunction]
    .filter(([fn]) => fn.endsWith(' ') && !fn.startsWith('('))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([fn]) => fn.trim());
  for (const name of nativeTop) {
    const by = new Map<string, number>();
    for (const [id, us] of self) {
      if (byId.get(id)!.callFrame.functionName !== name || byId.get(id)!.callFrame.url !== '') continue;
      const key = callers(id, 4);
      by.set(key, (by.get(key) ?? 0) + us);
    }
    console.log(`  ${name} called from:`);
    for (const [key, us] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`    ${pct(us)}  ${key}`);
  }
}

#!/usr/bin/env node
// `npm run bench -- NAME`: runs bench/NAME.bench.ts (all of them without a name) through tsx.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const all = readdirSync('bench').filter((f) => f.endsWith('.bench.ts'));
const chosen = wanted.length === 0 ? all : all.filter((f) => wanted.some((w) => f.startsWith(w)));
if (chosen.length === 0) {
  console.error(
    all.length === 0
      ? 'no benchmarks yet under bench/'
      : `no benchmark matches ${wanted.join(' ')}; have: ${all.join(', ')}`,
  );
  process.exit(all.length === 0 ? 0 : 2);
}
for (const file of chosen) {
  console.log(`\n== ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

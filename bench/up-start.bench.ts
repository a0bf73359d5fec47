/**
 * How long `brainmesh up` takes to bring the reference mesh up (hub and the DevMCP node with its
 * mounted server, all linked), on a new data folder and on one it has used before, and how long
 * Ctrl-C takes to stop everything.
 *
 *   npm run bench -- up-start            # BENCH_RUNS=3 by default
 *
 * The real program with the real configs; only the ports are chosen at run time.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { tempDir } from '@brainmesh/shared/testing';
import { stringify } from 'yaml';
import { BRAINMESH } from '../e2e/support/mesh.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const configs = path.resolve(BRAINMESH, '..', '..', 'configs');

async function upOnce(home: string, mesh: string): Promise<{ upMs: number; stopMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BRAINMESH, 'up', '--port', '0', '--home', home, '--mesh', mesh], {
    env: { PATH: process.env.PATH, HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) if (line.includes('stop: Ctrl-C')) break;
  const upMs = performance.now() - started;
  const stopping = performance.now();
  child.kill('SIGINT');
  await once(child, 'exit');
  return { upMs, stopMs: performance.now() - stopping };
}

const rows: string[] = [];
for (let run = 1; run <= RUNS; run++) {
  const dir = tempDir('bench-up');
  try {
    const mesh = path.join(dir.dir, 'mesh.yaml');
    writeFileSync(
      mesh,
      stringify({
        hub: { config: path.join(configs, 'hub.yaml') },
        nodes: [{ config: path.join(configs, 'devmcp.yaml'), port: 0 }],
      }),
    );
    const home = path.join(dir.dir, 'home');
    const cold = await upOnce(home, mesh);
    const warm = await upOnce(home, mesh);
    rows.push(
      `| ${run} | ${(cold.upMs / 1000).toFixed(1)} | ${(warm.upMs / 1000).toFixed(1)} | ${(warm.stopMs / 1000).toFixed(1)} |`,
    );
  } finally {
    dir.remove();
  }
}
console.log('| run | new data folder, s | existing, s | Ctrl-C to exit, s |\n| --- | --- | --- | --- |');
console.log(rows.join('\n'));

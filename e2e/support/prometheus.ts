/**
 * A real Prometheus (Debian's package) on loopback, scraping what a test names every second, with
 * its data in a folder of its own. Queried through its HTTP API, as Grafana or an operator would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@brainmesh/shared/testing';
import { stringify } from 'yaml';
import { freePort } from './everything-http.js';
import { findProgram } from './programs.js';

export interface ScrapeTarget {
  job: string;
  /** `http://host:port/path`. */
  url: string;
  /** A Bearer credential Prometheus sends (the hub's `/metrics` wants the admin scope). */
  bearer?: string;
}

export interface PrometheusProcess {
  url: string;
  proc: ChildProcess;
  /** An instant query's vector: each series' labels and value. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  stop(): Promise<void>;
}

/** Debian installs it in /usr/bin. */
export function findPrometheus(): string {
  return findProgram('prometheus', ['/usr/bin', '/usr/local/bin']);
}

export async function startPrometheus(
  t: { after(fn: () => unknown): void },
  targets: readonly ScrapeTarget[],
): Promise<PrometheusProcess> {
  const folder = tempDir('prometheus');
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '900ms' },
    scrape_configs: targets.map((target) => {
      const url = new URL(target.url);
      return {
        job_name: target.job,
        metrics_path: url.pathname,
        static_configs: [{ targets: [url.host] }],
        ...(target.bearer === undefined ? {} : { authorization: { type: 'Bearer', credentials: target.bearer } }),
      };
    }),
  };
  const configFile = path.join(folder.dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const proc = spawn(
    findPrometheus(),
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(folder.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: folder.dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-32 * 1024);
  });
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    folder.remove();
  };
  t.after(stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited at start:\n${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 30 s:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    proc,
    stop,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== 'success') throw new Error(`prometheus query ${expr}: ${body.error}`);
      return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}

#!/usr/bin/env node
// The one test command (`npm test`). Finds every *.test.ts under the workspaces, checks that the
// real servers CI promises are there, and runs node's own test runner with tsx loading TypeScript.
// Node 20's --test takes no globs, hence the file walk. Arguments filter files by substring.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const roots = ['shared', 'hub', 'node', 'e2e'];
const filters = process.argv.slice(2);

function walk(dir) {
  let out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out = out.concat(walk(full));
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

// Browser tests drive Debian's Chromium. CI installs it and must run them; a developer machine
// with only Node.js runs the rest and says what it left out.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(chromium);
// Container-engine tests run podman's Docker-compatible service (Debian's podman, runc and
// busybox-static); the same rule: CI installs them and must run these, elsewhere they need them.
const onPath = (program) =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && existsSync(path.join(dir, program)));
const haveEngine = onPath('podman') && existsSync('/bin/busybox');
// Metrics tests scrape with Debian's prometheus; the same rule again.
const havePrometheus = onPath('prometheus');
const ci = process.env.CI === 'true';
const files = roots
  .flatMap((root) => walk(root))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .filter((f) => haveBrowser || ci || !f.endsWith('.browser.test.ts'))
  .filter((f) => haveEngine || ci || !f.endsWith('.engine.test.ts'))
  .filter((f) => havePrometheus || ci || !f.endsWith('.prometheus.test.ts'))
  .sort();
if (!haveBrowser && !ci) {
  console.error(`browser tests not run: no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);
}
if (!haveEngine && !ci) {
  console.error(
    'container engine tests not run: no podman or /bin/busybox (apt-get install podman runc busybox-static)',
  );
}
if (!havePrometheus && !ci) {
  console.error('metrics tests not run: no prometheus on PATH (apt-get install prometheus)');
}
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

async function preflight() {
  const problems = [];
  const { DATABASE_URL, REDIS_URL, CI } = process.env;
  if (CI === 'true') {
    if (!DATABASE_URL) problems.push('DATABASE_URL is not set (CI must test against a real PostgreSQL)');
    if (!REDIS_URL) problems.push('REDIS_URL is not set (CI must test against a real Redis)');
  }
  if (DATABASE_URL) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (err) {
      problems.push(`PostgreSQL at DATABASE_URL is unreachable: ${err.message || err.code}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  if (REDIS_URL) {
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      problems.push(`Redis at REDIS_URL is unreachable: ${err.message || err.code}`);
    } finally {
      redis.disconnect();
    }
  }
  return problems;
}

const problems = await preflight();
if (problems.length > 0) {
  for (const p of problems) console.error(`test setup: ${p}`);
  process.exit(1);
}
const backends = [
  'embedded Postgres',
  'in-process store',
  process.env.DATABASE_URL && 'real PostgreSQL',
  process.env.REDIS_URL && 'real Redis',
].filter(Boolean);
console.error(`running ${files.length} test files against: ${backends.join(', ')}`);

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

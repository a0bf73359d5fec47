/**
 * Third-party servers as child processes of the benchmark: started on loopback, found by the
 * port they report, and stopped for good (SIGTERM, then SIGKILL) whatever happens to the run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const LOOPBACK_ONLY = fileURLToPath(new URL('./loopback-only.mjs', import.meta.url));
/** How long a server may take to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 3_000;
/** Lines of stderr kept to explain a failure. */
const KEEP_LINES = 50;

export interface Child {
  label: string;
  pid: number;
  /** The port it bound on 127.0.0.1, as the preload reported it. */
  port: number;
  /** The last lines of its stderr. */
  stderr: string[];
  stop(): Promise<void>;
}

/**
 * Runs a Node.js script with the loopback-only preload. Its stdout (server-everything logs a line
 * per request, mcp-hub its debug log) goes to /dev/null, so that reading it costs the benchmark
 * nothing.
 */
export async function startNodeScript(options: {
  label: string;
  script: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}): Promise<Child> {
  const child = spawn(process.execPath, ['--import', LOOPBACK_ONLY, options.script, ...options.args], {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = once(child, 'exit');
  const stderr: string[] = [];
  const stop = () => stopChild(child, exited);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.label}: no port within ${options.timeoutMs ?? 30_000} ms`)),
        options.timeoutMs ?? 30_000,
      );
      let partial = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          stderr.push(line);
          if (stderr.length > KEEP_LINES) stderr.shift();
          const port = /^\{"loopbackPort":(\d+)\}$/.exec(line)?.[1];
          if (port !== undefined) {
            clearTimeout(timer);
            resolve(Number(port));
          }
        }
      });
      void exited.then(([code, signal]) => {
        clearTimeout(timer);
        reject(new Error(`${options.label} exited (${code ?? signal}) before listening:\n${stderr.join('\n')}`));
      });
    });
    return { label: options.label, pid: child.pid!, port, stderr, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * A port free on 127.0.0.1 now, for a server that cannot be given port 0 (mcp-hub keys its
 * workspace cache by the port it is told). Another process could take it before the server
 * binds; on a benchmark machine that race is remote, and a clash fails the start loudly.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

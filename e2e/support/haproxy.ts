/**
 * A real HAProxy (Debian's package, 2.6) on loopback in front of several hub processes, the way a
 * deployment with more than one replica runs them (docker/haproxy.cfg is the same configuration
 * for compose). Round robin per request and no affinity of any kind: consecutive requests on one
 * client keep-alive connection may reach different hubs, so whatever a client's session needs
 * must be shared through storage, not kept in one process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from '@brainmesh/shared/testing';
import { freePort } from './everything-http.js';
import { findProgram } from './programs.js';

export interface HaproxyBackend {
  /** The server's name in HAProxy's configuration and messages (letters, digits, `-`, `_`, `.`). */
  name: string;
  /** Where it listens: `http://host:port`, no path. */
  url: string;
}

export interface HaproxyOptions {
  /** What the health check asks for (default `/healthz`); a 2xx or 3xx answer is healthy. */
  checkPath?: string;
  /** The Host header of the health check (default 127.0.0.1): one the hubs answer to. */
  checkHost?: string;
}

export interface HaproxyProcess {
  /** The frontend, `http://127.0.0.1:<port>`: where clients connect. */
  url: string;
  proc: ChildProcess;
  /** SIGTERM, then SIGKILL after 2 s; the config folder goes too. Safe to call more than once. */
  stop(): Promise<void>;
}

/** How long HAProxy has to accept connections on its frontend before the start counts as failed. */
const START_TIMEOUT_MS = 10_000;

/**
 * The configuration: one frontend, one backend, every server checked.
 *
 * - Per-request balancing. HAProxy 2.x balances each request on its own, keep-alive or not: the
 *   client connection stays open (`option http-keep-alive`, the default mode) while server
 *   connections go to a pool any request may take (`http-reuse safe`, the default).
 *   `no option prefer-last-server` says outright that a request should not follow the one before
 *   it to the same server. (HAProxy still sticks a client to a server that answered 401 with NTLM
 *   or Negotiate; the hub's Bearer challenges do not do that.) `option http-server-close` is not
 *   needed for this and would cost a new server connection per request.
 * - A dead server is out within about a second: checked every 500 ms, down after 2 failures, up
 *   again after 1 success.
 * - Retries only where nothing was sent. `retry-on conn-failure` (HAProxy's default) retries only
 *   when the connection to the server could not be made, so the request never left HAProxy;
 *   `retries 1` with `option redispatch 1` makes that one retry go to another server. This covers
 *   the second between a hub's death and its checks failing, when round robin still picks it and
 *   gets "connection refused". A request that did reach a server that then died is never
 *   replayed: the client sees the 502 (or its stream cut), as it would without a proxy.
 * - Each POST to `/mcp` is the first on its client connection (`CLOSE_AFTER_POST`), so that if its
 *   hub dies before answering, the client hears the 502 "try again" and not a silent close.
 * - Timeouts: connect 2 s; client and server 120 s, which also bound an idle SSE response (that
 *   is plain HTTP to HAProxy, not a tunnel: the hub's SSE keep-alive comments keep it open);
 *   `timeout tunnel 1h` for WebSocket upgrades.
 */
export function haproxyConfig(
  bind: string,
  backends: readonly { name: string; address: string }[],
  options: HaproxyOptions = {},
): string {
  const checkPath = options.checkPath ?? '/healthz';
  return [
    'global',
    // Bounds the file descriptor table HAProxy sizes from `ulimit -n` (which may be huge).
    '  maxconn 1024',
    '',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  no option prefer-last-server',
    '  http-reuse safe',
    '  retries 1',
    '  retry-on conn-failure',
    '  option redispatch 1',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  timeout tunnel 1h',
    ...TRY_AGAIN.map(
      (status) => `  http-error status ${status} content-type application/json string "${tryAgainBody(status)}"`,
    ),
    '',
    'frontend hubs_in',
    `  bind ${bind}`,
    ...CLOSE_AFTER_POST,
    '  default_backend hubs',
    '',
    'backend hubs',
    '  balance roundrobin',
    // HTTP/1.1 with a Host the hubs answer to: they refuse a request naming a host they do not know.
    '  option httpchk',
    `  http-check send meth GET uri ${checkPath} ver HTTP/1.1 hdr Host ${options.checkHost ?? '127.0.0.1'}`,
    '  default-server check inter 500ms fall 2 rise 1',
    ...backends.map((b) => `  server ${b.name} ${b.address}`),
    '',
  ].join('\n');
}

/**
 * A POST to `/mcp` has its client connection closed after the answer, so the next one opens a new
 * connection. HAProxy answers its 502 "try again" only to the first request on a client
 * connection: for a later one whose server dies before answering, it closes the connection with
 * no answer at all (HTTP lets a client retry a request on a reused connection; an MCP client does
 * not resend a `tools/call`, and must not: it may have run). A 2025-era stream that had begun is
 * taken up again on another replica (resumable-streams.ts); this covers the moment before it
 * begins, and every 2026-era request. The cost is a TCP connection per request between client and
 * proxy (and with TLS there, a handshake, resumed): measured in docs/performance.md.
 */
const CLOSE_AFTER_POST = [
  '  http-request set-var(txn.close) bool(true) if METH_POST { path /mcp }',
  '  http-after-response set-header connection close if { var(txn.close) -m bool }',
];

/**
 * What a client hears when the hub that had its request died under it (502), or no hub could take
 * it (503, 504): a JSON-RPC error saying to try again, which an MCP client shows as the error's
 * text, rather than HAProxy's HTML page. docker/haproxy.cfg says the same.
 */
const TRY_AGAIN = [502, 503, 504] as const;
function tryAgainBody(status: number): string {
  const message =
    status === 502
      ? 'the hub replica that had this request stopped before it answered; the call may or may not have run; try again'
      : 'no hub replica could take this request now; try again';
  return JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message }, id: null }).replaceAll('"', '\\"');
}

/** `http://host:port` as HAProxy's `host:port` (IPv6 as `ipv6@addr:port`). */
function serverAddress(backend: HaproxyBackend): string {
  const url = new URL(backend.url);
  if (url.protocol !== 'http:') throw new Error(`haproxy backend ${backend.name}: only http: URLs (${backend.url})`);
  if (url.pathname !== '/' || url.search !== '')
    throw new Error(`haproxy backend ${backend.name}: a URL without a path (${backend.url})`);
  const port = url.port || '80';
  const host = url.hostname;
  return host.startsWith('[') ? `ipv6@${host.slice(1, -1)}:${port}` : `${host}:${port}`;
}

/** Debian installs it in /usr/sbin, which a user's PATH may lack. */
export function findHaproxy(): string {
  return findProgram('haproxy', ['/usr/sbin', '/usr/local/sbin', '/sbin']);
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts HAProxy in front of `backends`, in the foreground (`-db`), with its configuration in a
 * folder of its own. Resolves once the frontend accepts connections (the servers' first checks
 * may still be under way); rejects with HAProxy's stderr if it exits first. Stopped after the test.
 */
export async function startHaproxy(
  t: { after(fn: () => unknown): void },
  backends: { name: string; url: string }[],
  options: HaproxyOptions = {},
): Promise<HaproxyProcess> {
  if (backends.length === 0) throw new Error('haproxy needs at least one backend');
  for (const b of backends)
    if (!/^[A-Za-z0-9._-]+$/.test(b.name)) throw new Error(`haproxy server name: letters, digits, . _ - (${b.name})`);
  const servers = backends.map((b) => ({ name: b.name, address: serverAddress(b) }));
  const binary = findHaproxy();

  const folder = tempDir('haproxy');
  const port = await freePort();
  const configFile = path.join(folder.dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig(`127.0.0.1:${port}`, servers, options));

  const proc = spawn(binary, ['-f', configFile, '-db'], {
    cwd: folder.dir,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
  });
  let exited = proc.exitCode !== null || proc.signalCode !== null;
  const exit = new Promise<void>((resolve) => {
    // 'close', not 'exit': by then stderr has been read to its end.
    proc.once('close', () => {
      exited = true;
      resolve();
    });
    proc.once('error', () => {
      exited = true;
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 2_000);
        await exit;
        clearTimeout(timer);
      }
      folder.remove();
    })();
    return stopping;
  };
  t.after(stop);

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`haproxy exited before accepting connections (${proc.exitCode ?? proc.signalCode}):\n${stderr}`);
    }
    // Exited meanwhile: someone else took the port between freePort and HAProxy's bind.
    if ((await connects(port)) && !exited) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `haproxy did not accept connections on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${stderr}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${port}`, proc, stop };
}

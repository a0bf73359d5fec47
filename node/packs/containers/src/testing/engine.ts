import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real container engine for tests: podman's Docker-compatible service (Debian's podman, runc
 * and busybox-static), on a socket and a storage of the test's own, so nothing of the machine's
 * own containers or images is touched and nothing is left behind. No image registry is
 * reachable, so the one image is made here: a root filesystem of busybox, imported.
 */
export interface TestEngine {
  /** The socket, as DOCKER_HOST takes it: `unix:///…/engine.sock`. */
  host: string;
  /** A local image with a shell and the usual tools (`sh`, `echo`, `sleep`, `cat`, `ps`…). */
  image: string;
  /** Removes every container, stops the service and deletes its storage. */
  close(): Promise<void>;
}

export const TEST_IMAGE = 'localhost/brainmesh-test-busybox:1';
const BUSYBOX = '/bin/busybox';
const APPLETS = [
  'sh',
  'echo',
  'cat',
  'ls',
  'sleep',
  'ps',
  'kill',
  'env',
  'seq',
  'yes',
  'true',
  'false',
  'wc',
  'date',
  'hostname',
  'mkdir',
  'touch',
  'id',
];
/** What the engine needs from Debian, said when it is missing. */
const INSTALL = 'apt-get install podman runc busybox-static';

/** Where an engine cannot be had here, why, in one line; undefined where it can. */
export function engineMissing(): string | undefined {
  if (!existsSync(BUSYBOX)) return `no ${BUSYBOX} to build the test image from (${INSTALL})`;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, 'podman'))) return undefined;
  }
  return `podman is not installed (${INSTALL})`;
}

export async function startTestEngine(): Promise<TestEngine> {
  const missing = engineMissing();
  if (missing !== undefined) throw new Error(`no container engine for the tests: ${missing}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'engine-'));
  // runc (crun is not packaged with podman here), and limits the sandbox allows.
  const conf = path.join(dir, 'containers.conf');
  writeFileSync(
    conf,
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n',
  );
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const podman = (args: string[]) =>
    run(
      'podman',
      ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'run'), '--storage-driver', 'vfs', ...args],
      {
        env,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  let service: ChildProcess | undefined;
  const close = async () => {
    await podman(['rm', '--all', '--force', '--time', '0']).catch(() => {});
    if (service !== undefined && service.exitCode === null) {
      const exited = new Promise((resolve) => service!.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const rootfs = path.join(dir, 'rootfs');
    for (const sub of ['bin', 'tmp', 'proc', 'sys', 'dev', 'etc', 'root'])
      mkdirSync(path.join(rootfs, sub), { recursive: true });
    copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
    for (const applet of APPLETS) symlinkSync('busybox', path.join(rootfs, 'bin', applet));
    writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    const tar = path.join(dir, 'rootfs.tar');
    await run('tar', ['-C', rootfs, '-cf', tar, '.']);
    await podman(['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', tar, TEST_IMAGE]);
    const socket = path.join(dir, 'engine.sock');
    const said: string[] = [];
    service = spawn(
      'podman',
      [
        '--root',
        path.join(dir, 'root'),
        '--runroot',
        path.join(dir, 'run'),
        '--storage-driver',
        'vfs',
        'system',
        'service',
        '--time=0',
        `unix://${socket}`,
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    service.stderr!.on('data', (chunk: Buffer) => said.push(chunk.toString('utf8')));
    await answers(socket, service, said);
    return { host: `unix://${socket}`, image: TEST_IMAGE, close };
  } catch (err) {
    await close();
    throw new Error(`the container engine for the tests did not start: ${(err as Error).message}`, { cause: err });
  }
}

/** Resolves once the service answers its ping; fails at once if it exits, or after 30 s. */
async function answers(socket: string, service: ChildProcess, said: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exited: string | undefined;
  service.once('exit', (code, signal) => {
    exited = `podman system service exited (${code ?? signal}): ${said.join('').trim().split('\n').pop() ?? ''}`;
  });
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    if (exited !== undefined) throw new Error(exited);
    if (await ping(socket)) return;
    if (Date.now() > deadline) throw new Error(`podman system service did not answer on ${socket} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}

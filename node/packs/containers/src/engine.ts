import { PassThrough, type Readable } from 'node:stream';
import { BrainmeshError } from '@brainmesh/shared';
import Docker from 'dockerode';

/**
 * The container engine behind the pack: a Docker Engine API on a unix socket (Docker itself, or
 * podman's `system service`), through dockerode. Its failures become errors that say what
 * happened in the engine's own words, and where the engine is not running, how to start one.
 */
export class Engine {
  readonly docker: Docker;

  constructor(readonly socketPath: string) {
    this.docker = new Docker({ socketPath });
  }

  /** `unix:///path`, or a plain path; the default when neither the settings nor DOCKER_HOST say. */
  static socketOf(host: string | undefined): string {
    const given = host ?? '/var/run/docker.sock';
    if (given.startsWith('unix://')) return given.slice('unix://'.length);
    if (given.startsWith('/')) return given;
    throw new BrainmeshError(
      'CONFIG_INVALID',
      `containers: host "${given}" is not a unix socket (unix:///path); a TCP engine API is not supported`,
    );
  }

  /** Runs one engine request, its failure made into a BrainmeshError with a stable code. */
  async run<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw this.explain(what, err);
    }
  }

  explain(what: string, err: unknown): Error {
    if (err instanceof BrainmeshError) return err;
    const e = err as {
      code?: string;
      statusCode?: number;
      json?: { message?: string };
      reason?: string;
      message?: string;
    };
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') {
      const why = e.code === 'EACCES' ? 'this node may not open it' : 'nothing answers there';
      return new BrainmeshError(
        'UPSTREAM_UNAVAILABLE',
        `the container engine at unix://${this.socketPath} cannot be reached (${e.code}: ${why}); start Docker, or \`podman system service --time=0 unix://${this.socketPath}\`, or set DOCKER_HOST`,
      );
    }
    const said = (e.json?.message ?? e.reason ?? e.message ?? String(err)).trim();
    if (e.statusCode === 404) return new BrainmeshError('NOT_FOUND', `${what}: ${said}`);
    // 304: started when running, stopped when stopped; the caller decides whether that is fine.
    if (e.statusCode === 304)
      return new BrainmeshError('CONFLICT', `${what}: done already`, { details: { notModified: true } });
    if (e.statusCode === 409) return new BrainmeshError('CONFLICT', `${what}: ${said}`);
    if (e.statusCode === 400) return new BrainmeshError('INVALID_INPUT', `${what}: ${said}`);
    if (e.statusCode !== undefined)
      return new BrainmeshError('UPSTREAM_UNAVAILABLE', `${what}: the engine answered ${e.statusCode}: ${said}`);
    return new BrainmeshError('UPSTREAM_UNAVAILABLE', `${what}: ${said}`);
  }
}

export type StreamName = 'stdout' | 'stderr';

export interface OutputLine {
  stream: StreamName;
  text: string;
}

/**
 * Reads an engine output stream (logs, exec) line by line. Without a TTY the engine frames each
 * chunk with its stream (8-byte headers), which dockerode's modem takes apart; with one, it is
 * all stdout. `onLine` sees each complete line as it arrives; the promise settles when the
 * stream ends or is destroyed.
 */
export function readLines(
  docker: Docker,
  source: Readable,
  tty: boolean,
  onLine: (line: OutputLine) => void,
): Promise<void> {
  const splitter = (stream: StreamName) => {
    let partial = '';
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) onLine({ stream, text: text.replace(/\r$/, '') });
    });
    return { sink, flush: () => partial.length > 0 && onLine({ stream, text: partial }) };
  };
  const out = splitter('stdout');
  const err = splitter('stderr');
  if (tty) source.pipe(out.sink);
  else docker.modem.demuxStream(source, out.sink, err.sink);
  return new Promise((resolve) => {
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      out.flush();
      err.flush();
      resolve();
    };
    source.once('end', done);
    source.once('close', done);
    source.once('error', done);
  });
}

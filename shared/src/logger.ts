import { randomUUID } from 'node:crypto';
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  level?: string;
  /** `auto`: pretty when the destination is a terminal, JSON otherwise. */
  format?: 'json' | 'pretty' | 'auto';
  /** 1 = stdout, 2 = stderr (the stdio bridge must keep stdout for MCP), or any stream (tests). */
  destination?: 1 | 2 | DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const fd = typeof options.destination === 'number' ? options.destination : 1;
  const stream = typeof options.destination === 'object' ? options.destination : undefined;
  const isTty = stream === undefined && (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY);
  const wantPretty = options.format === 'pretty' || (options.format !== 'json' && isTty === true);
  const destination =
    stream ??
    (wantPretty
      ? pretty({ destination: fd, colorize: isTty === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : pino.destination({ dest: fd, sync: false }));
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      // Key-based redaction at any depth: pino's own `redact` needs every path spelled out.
      formatters: { log: (obj) => redactSecrets(obj) as Record<string, unknown> },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/**
 * A W3C-style trace id (32 hex digits), carried from the hub's record of a call to the node's.
 * Made from a random UUID (122 random bits): node draws those from a pool it refills in bulk,
 * where `randomBytes(16)` on every call cost a system call each (seen in a profile).
 */
export function newTraceId(): string {
  return randomUUID().replaceAll('-', '');
}

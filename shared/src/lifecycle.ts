import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BrainmeshError } from './errors.js';

/**
 * What a starting process has opened, closed again newest first: on shutdown, and when a later
 * start-up step fails, so a failed start leaves no lock, socket, connection or child behind.
 */
export class Closer {
  private readonly steps: Array<() => Promise<void>> = [];

  constructor(private readonly logger: Logger) {}

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  async closeAll(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      await step().catch((err) => this.logger.error({ err }, 'close failed'));
    }
  }
}

/** The URL a server listening on `address` is reached at. */
export function listeningUrl(address: string | AddressInfo | null, host: string, fallbackPort: number): string {
  const port = typeof address === 'object' && address !== null ? address.port : fallbackPort;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Listens, turning "address in use" into an error that names the port and how to pick another
 * (`hint`), instead of a stack trace.
 */
export async function listenOrExplain(
  server: { listen(options: { host: string; port: number }): Promise<unknown> },
  options: { host: string; port: number; what: string; hint: string },
): Promise<void> {
  try {
    await server.listen({ host: options.host, port: options.port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new BrainmeshError(
        'PORT_IN_USE',
        `${options.what} cannot listen on ${options.host}:${options.port}: ${code === 'EADDRINUSE' ? 'the port is taken by another program' : 'permission denied'}; ${options.hint}`,
        { details: { host: options.host, port: options.port }, cause: err },
      );
    }
    throw err;
  }
}

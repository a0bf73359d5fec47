import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

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

import { createServer, type Server } from 'node:http';
import { listeningUrl, listenOrExplain } from './lifecycle.js';
import type { Logger } from './logger.js';

/** What a process's metrics are, in Prometheus's text format (hub/src/metrics.ts, node/src/metrics.ts). */
export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}

export interface MetricsListener {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a listener of its own, for a scraper on the same machine (config `metrics`):
 * no credentials, so it binds to loopback unless told otherwise, and answers nothing else.
 */
export async function listenForMetrics(
  source: MetricsSource,
  options: { host: string; port: number; what: string; logger: Logger },
): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    source.text().then(
      (text) => res.writeHead(200, { 'content-type': source.contentType }).end(req.method === 'HEAD' ? '' : text),
      (err: unknown) => {
        options.logger.error({ err }, 'metrics could not be collected');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  await listenOrExplain(
    {
      listen: ({ host, port }) =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        }),
    },
    {
      host: options.host,
      port: options.port,
      what: `${options.what}'s metrics listener`,
      hint: 'choose another with metrics.port (or BRAINMESH_METRICS_PORT)',
    },
  );
  const url = `${listeningUrl(server.address(), options.host, options.port)}/metrics`;
  options.logger.info({ url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

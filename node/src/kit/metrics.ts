import { Gauge, Histogram, type Registry } from 'prom-client';

export type MetricLabels = Readonly<Record<string, string>>;

/**
 * What a pack may add to its node's `/metrics`: histograms it observes and gauges read when
 * Prometheus scrapes. Every name is put under `brainmesh_pack_<pack>_`, so packs cannot collide
 * with each other or the node's own; label values must come from bounded sets (services, kinds),
 * never a principal, an id or an argument. With the node's metrics off, it keeps nothing.
 */
export interface PackMetrics {
  histogram(
    name: string,
    spec: { help: string; labelNames: readonly string[]; buckets: readonly number[] },
  ): { observe(labels: MetricLabels, value: number): void };
  gauge(
    name: string,
    spec: {
      help: string;
      labelNames: readonly string[];
      /** Each labelled value, read at scrape time. */
      read(): Promise<ReadonlyArray<{ labels: MetricLabels; value: number }>>;
    },
  ): void;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function packMetrics(registry: Registry | undefined, pack: string): PackMetrics {
  const prefix = `brainmesh_pack_${pack.replaceAll('-', '_')}_`;
  const named = (name: string) => {
    if (!NAME.test(name)) throw new RangeError(`a pack metric's name is lowercase letters, digits and _: ${name}`);
    return `${prefix}${name}`;
  };
  if (registry === undefined) {
    return {
      histogram: (name) => {
        named(name);
        return { observe: () => {} };
      },
      gauge: (name) => {
        named(name);
      },
    };
  }
  const registers = [registry];
  return {
    histogram(name, spec) {
      const histogram = new Histogram({
        name: named(name),
        help: spec.help,
        labelNames: [...spec.labelNames],
        buckets: [...spec.buckets],
        registers,
      });
      return { observe: (labels, value) => histogram.observe(labels, value) };
    },
    gauge(name, spec) {
      new Gauge({
        name: named(name),
        help: spec.help,
        labelNames: [...spec.labelNames],
        registers,
        async collect() {
          this.reset();
          // A read that fails (the database away) leaves this gauge out of one scrape rather
          // than failing the whole scrape.
          const values = await spec.read().catch(() => []);
          for (const { labels, value } of values) this.set(labels, value);
        },
      });
    },
  };
}

import { BrainmeshError } from '@brainmesh/shared';
import type { z } from 'zod';

/**
 * A service's answer checked against its wire schema. Only paths and zod's own words go into the
 * error: the values (a GoDaddy authCode among them) never do.
 */
export function parseAnswer<S extends z.ZodType>(service: string, schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? 'body' : i.path.join('.')}: ${i.message}`)
    .join('; ');
  throw unreadable(service, issues);
}

export function unreadable(service: string, why: string): BrainmeshError {
  return new BrainmeshError('UPSTREAM_UNAVAILABLE', `${service} sent an answer brainmesh cannot read: ${why}`);
}

/** The keys that have a value: what is sent to a service, or shown, carries nothing left unset. */
export function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

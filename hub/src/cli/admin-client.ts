import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BrainmeshError, type ErrorCode } from '@brainmesh/shared';

/**
 * The operator commands' way to the hub: its admin API over HTTP, with an API key. Which hub
 * and key: flags, then BRAINMESH_HUB / BRAINMESH_API_KEY, then the local hub that `npm start`
 * runs and the operator key it wrote.
 */

export interface HubTarget {
  hub: string;
  apiKey: string;
}

export function resolveTarget(
  flags: { hub?: string | undefined; apiKey?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): HubTarget {
  const hub = flags.hub ?? (env.BRAINMESH_HUB || undefined) ?? 'http://127.0.0.1:8080';
  try {
    new URL(hub);
  } catch {
    throw new UsageProblem(`--hub must be a URL such as http://127.0.0.1:8080, got "${hub}"`);
  }
  // An empty variable counts as unset, as shells and CI templates often leave them.
  let apiKey = flags.apiKey ?? (env.BRAINMESH_API_KEY || undefined);
  if (apiKey === undefined) {
    const file = path.join(path.resolve(cwd, env.BRAINMESH_HOME || '.brainmesh'), 'operator-key');
    if (!existsSync(file)) {
      throw new BrainmeshError(
        'UNAUTHENTICATED',
        `no API key: pass --api-key or set BRAINMESH_API_KEY (the local hub's key would be in ${file})`,
      );
    }
    apiKey = readFileSync(file, 'utf8').trim();
  }
  return { hub, apiKey };
}

/** The hub's answers whose message is meant for the operator as it stands. */
const ANSWERS: Record<number, ErrorCode> = {
  400: 'INVALID_INPUT',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  429: 'RATE_LIMITED',
  503: 'UPSTREAM_UNAVAILABLE',
  504: 'UPSTREAM_TIMEOUT',
};

/** A mistake in how the command was called: usage and exit 2. */
export class UsageProblem extends Error {}

export async function adminRequest<T>(target: HubTarget, method: string, route: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(route, target.hub), {
      method,
      headers: {
        authorization: `Bearer ${target.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (cause) {
    throw new BrainmeshError('UPSTREAM_UNAVAILABLE', `cannot reach the hub at ${target.hub}; is it running?`, {
      cause,
    });
  }
  if (res.status === 204) return undefined as T;
  const payload = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const message = typeof payload.message === 'string' ? payload.message : `HTTP ${res.status}`;
    if (res.status === 401) throw new BrainmeshError('UNAUTHENTICATED', `the hub refused the API key: ${message}`);
    const code = ANSWERS[res.status];
    if (code !== undefined) throw new BrainmeshError(code, message);
    throw new BrainmeshError('INTERNAL', `the hub answered ${res.status}: ${message}`);
  }
  return payload as T;
}

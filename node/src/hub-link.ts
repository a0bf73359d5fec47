import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BrainmeshError, chainPointSchema, type KeyRing, type Logger, signLinkToken } from '@brainmesh/shared';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';

/**
 * This node's side of its link to the hub: enrolment with a one-time token on the first start,
 * the hub's pinned keys afterwards (`<home>/link.json`), and an announcement of the node's URL
 * and keys on every start, signed with the node's key, so the hub finds it wherever it listens.
 */

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) });

const linkFileSchema = z.object({
  hubId: z.string().min(1),
  hubUrl: z.string().url(),
  nodeId: z.string().min(1),
  hubJwks: jwksSchema,
  enrolledAt: z.string(),
  /** Where the hub's audit record of this node's name ended at enrolment: the chain goes on from there. */
  auditBase: chainPointSchema.optional(),
});
export type LinkFile = z.infer<typeof linkFileSchema>;

const enrolResponseSchema = z.object({
  hubId: z.string().min(1),
  nodeId: z.string().min(1),
  jwks: jwksSchema,
  audit: chainPointSchema.optional(),
});

export class HubLink {
  private state: LinkFile | undefined;

  constructor(
    private readonly home: string,
    private readonly ring: KeyRing,
    private readonly logger: Logger,
  ) {
    const file = this.file();
    if (existsSync(file)) {
      const parsed = linkFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success) throw new BrainmeshError('CONFIG_INVALID', `${file}: not a brainmesh link file`);
      this.state = parsed.data;
    }
  }

  get enrolled(): LinkFile | undefined {
    return this.state;
  }

  /** The hub keys this node accepts; none until enrolled. */
  hubKeys(): JSONWebKeySet | undefined {
    return this.state?.hubJwks as JSONWebKeySet | undefined;
  }

  private file(): string {
    return path.join(this.home, 'link.json');
  }

  /** Redeems a one-time enrolment token; the hub answers with its keys, which are pinned. */
  async enrol(options: { hubUrl: string; token: string; nodeName: string; url: string | null }): Promise<LinkFile> {
    const res = await fetch(new URL('/enrol', options.hubUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: options.token, node: options.nodeName, url: options.url, jwks: this.ring.jwks() }),
    }).catch((cause: unknown) => {
      throw new BrainmeshError('UPSTREAM_UNAVAILABLE', `cannot reach the hub at ${options.hubUrl} to enrol`, { cause });
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      const why = typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
      throw new BrainmeshError('UNAUTHENTICATED', `the hub refused enrolment: ${why}`);
    }
    const parsed = enrolResponseSchema.parse(body);
    const state: LinkFile = {
      hubId: parsed.hubId,
      hubUrl: options.hubUrl,
      nodeId: parsed.nodeId,
      hubJwks: parsed.jwks,
      enrolledAt: new Date().toISOString(),
      ...(parsed.audit === undefined ? {} : { auditBase: parsed.audit }),
    };
    const tmp = `${this.file()}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file());
    this.state = state;
    this.logger.info({ hub: parsed.hubId, node: parsed.nodeId }, 'enrolled with the hub');
    return state;
  }

  /**
   * Tells the hub where this node listens. Retries with backoff while the hub is unreachable,
   * until it succeeds or `signal` aborts; the node serves meanwhile. The hub is found at the URL
   * the node is configured with now, which may differ from where it enrolled: the hub's identity
   * is its pinned keys, not its address.
   */
  async announce(url: string | null, hubUrl: string, signal: AbortSignal): Promise<void> {
    const state = this.state;
    if (state === undefined) throw new BrainmeshError('UNAUTHENTICATED', 'not enrolled');
    // Unreachable or failing: try again. Refused: the hub no longer knows this node (removed,
    // or enrolled again elsewhere), and asking again will not change that.
    const policy = retry(
      handleWhen((err) => !(err instanceof HubRefusal)),
      {
        maxAttempts: Number.POSITIVE_INFINITY,
        backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 10_000 }),
      },
    );
    policy.onRetry((event) => {
      if ('error' in event)
        this.logger.warn({ err: event.error, retryInMs: Math.round(event.delay) }, 'announce to hub failed');
    });
    await policy
      .execute(async () => {
        if (signal.aborted) return;
        const token = await signLinkToken(this.ring, { iss: state.nodeId, aud: state.hubId, sub: state.nodeId });
        const res = await fetch(new URL('/links/announce', hubUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ url, jwks: this.ring.jwks() }),
          signal,
        });
        if (res.status === 401 || res.status === 403 || res.status === 404) throw new HubRefusal(res.status);
        if (!res.ok) throw new Error(`hub answered ${res.status}`);
        this.logger.info({ hub: state.hubId, url }, 'announced to the hub');
      }, signal)
      .catch((err: unknown) => {
        if (!(err instanceof HubRefusal)) throw err;
        this.logger.error(
          { hub: state.hubId, status: err.status },
          'the hub refused this node: it was removed or enrolled again; enrol it anew with a fresh token',
        );
      });
  }
}

class HubRefusal extends Error {
  constructor(readonly status: number) {
    super(`hub refused the node (${status})`);
  }
}

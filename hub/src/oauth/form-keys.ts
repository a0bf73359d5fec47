import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '@brainmesh/shared';

/**
 * The keys that sign what the OAuth pages hand a browser (the consent form, the sign-in cookie),
 * kept in the database so that a restarted hub, or another replica, verifies what this one
 * signed. One key signs for each period of `rotateMs`; its id is the period's start, so replicas
 * that reach a new period together write one row between them and sign with the same key. A key
 * keeps verifying for `maxLifeMs` after it stops signing (the longest life of anything signed),
 * and is then retired: refused, and deleted. Secrets never leave this file, and are never logged.
 */

interface Key {
  secret: Buffer;
  verifiesUntil: number;
}

export interface FormKeysOptions {
  /** How long a key signs before the next one takes over. */
  rotateMs: number;
  /** The longest life of anything sealed: how long a key verifies after it stops signing. */
  maxLifeMs: number;
  clock?: () => number;
}

const DIGITS = /^\d{1,15}$/;
/** How far ahead of this clock another replica's may be when it starts a new key. */
const CLOCK_SKEW_MS = 5 * 60_000;

const mac = (secret: Buffer, kid: string, until: number, payload: string) =>
  createHmac('sha256', secret).update(`${kid}.${until}.${payload}`).digest('base64url');

export class FormKeys {
  private readonly keys = new Map<string, Key>();
  private readonly creating = new Map<string, Promise<Key>>();
  private readonly clock: () => number;

  constructor(
    private readonly db: Db,
    private readonly options: FormKeysOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** `<kid>.<until>.<mac>`: vouches for `payload` for `lifeMs` (at most `maxLifeMs`) from now. */
  async seal(payload: string, lifeMs: number): Promise<string> {
    if (lifeMs > this.options.maxLifeMs) throw new RangeError(`a seal may last at most ${this.options.maxLifeMs} ms`);
    const { kid, key } = await this.signingKey();
    const until = this.clock() + lifeMs;
    return `${kid}.${until}.${mac(key.secret, kid, until, payload)}`;
  }

  /** Whether `sealed` vouches for `payload`: made by `seal`, not expired, its key not retired. */
  async check(payload: string, sealed: string): Promise<boolean> {
    const [kid, untilText, given, ...rest] = sealed.split('.');
    if (kid === undefined || untilText === undefined || given === undefined || rest.length > 0) return false;
    if (!DIGITS.test(kid) || !DIGITS.test(untilText)) return false;
    const now = this.clock();
    const until = Number(untilText);
    if (until <= now) return false;
    const key = await this.verifyingKey(kid, now);
    if (key === undefined) return false;
    const expected = Buffer.from(mac(key.secret, kid, until, payload));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  private async signingKey(): Promise<{ kid: string; key: Key }> {
    const now = this.clock();
    const kid = String(now - (now % this.options.rotateMs));
    const cached = this.keys.get(kid);
    if (cached !== undefined) return { kid, key: cached };
    let pending = this.creating.get(kid);
    if (pending === undefined) {
      pending = this.create(kid, now).finally(() => this.creating.delete(kid));
      this.creating.set(kid, pending);
    }
    return { kid, key: await pending };
  }

  private async verifyingKey(kid: string, now: number): Promise<Key | undefined> {
    // Unknown here: made by another replica, or before this process started.
    const key = this.keys.get(kid) ?? (Number(kid) <= now + CLOCK_SKEW_MS ? await this.load(kid) : undefined);
    if (key === undefined || key.verifiesUntil > now) return key;
    this.keys.delete(kid);
    return undefined;
  }

  private async create(kid: string, now: number): Promise<Key> {
    const signsUntil = Number(kid) + this.options.rotateMs;
    await this.db.query(
      `INSERT INTO oauth_form_keys (kid, secret, signs_until, verifies_until) VALUES ($1, $2, $3, $4)
       ON CONFLICT (kid) DO NOTHING`,
      [kid, randomBytes(32).toString('base64url'), new Date(signsUntil), new Date(signsUntil + this.options.maxLifeMs)],
    );
    // Another replica may have written it first: every replica signs with the row that stands.
    const key = await this.load(kid);
    if (key === undefined) throw new Error(`OAuth form key ${kid} was not stored`);
    await this.db.query('DELETE FROM oauth_form_keys WHERE verifies_until <= $1', [new Date(now)]);
    for (const [old, { verifiesUntil }] of this.keys) if (verifiesUntil <= now) this.keys.delete(old);
    return key;
  }

  private async load(kid: string): Promise<Key | undefined> {
    const { rows } = await this.db.query<{ secret: string; verifies_until: Date }>(
      'SELECT secret, verifies_until FROM oauth_form_keys WHERE kid = $1',
      [kid],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const key = {
      secret: Buffer.from(row.secret, 'base64url'),
      verifiesUntil: new Date(row.verifies_until).getTime(),
    };
    this.keys.set(kid, key);
    return key;
  }
}

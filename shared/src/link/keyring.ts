import { hkdfSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { z } from 'zod';
import { BrainmeshError } from '../errors.js';

/**
 * A process's own Ed25519 signing keys, kept in `<home>/keys.json` (owner-only). One key is
 * active and signs; retiring keys still appear in the published JWKS, so tokens and peers that
 * know them keep working through a rotation, until the operator retires them.
 */

const storedKeySchema = z.object({
  kid: z.string().min(1),
  status: z.enum(['active', 'retiring']),
  createdAt: z.string(),
  privateJwk: z.record(z.string(), z.unknown()),
  publicJwk: z.record(z.string(), z.unknown()),
});
const keyFileSchema = z.object({ keys: z.array(storedKeySchema).min(1) });
type StoredKey = z.infer<typeof storedKeySchema>;

export const LINK_ALG = 'EdDSA';

export interface SigningKey {
  kid: string;
  key: CryptoKey;
}

export class KeyRing {
  private constructor(
    private readonly file: string | undefined,
    private keys: StoredKey[],
    private signing: SigningKey,
  ) {}

  /**
   * Loads the ring from `file` (`<home>/keys.json` unless given), creating it with one fresh key
   * on first start. Processes that share one file (hub replicas) and start together make one
   * ring: the first to create the file wins, and the others read it.
   */
  static async open(home: string, file: string = path.join(home, 'keys.json')): Promise<KeyRing> {
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const ring = new KeyRing(file, [], undefined as unknown as SigningKey);
      if (await ring.create()) return ring;
    }
    let parsed: z.infer<typeof keyFileSchema>;
    try {
      parsed = keyFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (cause) {
      throw new BrainmeshError('CONFIG_INVALID', `${file}: not a brainmesh key file`, { cause });
    }
    const active = parsed.keys.find((k) => k.status === 'active') ?? parsed.keys[0]!;
    return new KeyRing(file, parsed.keys, await importSigning(active));
  }

  /** A ring that lives only in memory (tests, one-off tools). */
  static async ephemeral(): Promise<KeyRing> {
    const ring = new KeyRing(undefined, [], undefined as unknown as SigningKey);
    await ring.rotate();
    return ring;
  }

  get activeKid(): string {
    return this.signing.kid;
  }

  signingKey(): SigningKey {
    return this.signing;
  }

  /**
   * A secret for `purpose`, derived (HKDF-SHA256) from the active key's private part: the same in
   * every process that shares this ring (hub replicas), never the key itself, and a different one
   * for each purpose. It changes when the ring rotates.
   */
  derivedSecret(purpose: string): Uint8Array {
    const active = this.keys.find((k) => k.kid === this.signing.kid);
    const d = active?.privateJwk.d;
    if (typeof d !== 'string')
      throw new BrainmeshError('CONFIG_INVALID', 'the key ring has no private key to derive from');
    return new Uint8Array(hkdfSync('sha256', Buffer.from(d, 'base64url'), Buffer.alloc(0), `brainmesh ${purpose}`, 32));
  }

  /** Every key not yet retired, the active one among them. */
  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  /** Public keys of every key not yet retired. */
  jwks(): JSONWebKeySet {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk }) as JWK) };
  }

  /** The ring's first key, written only if no file is there yet; false when one was. */
  private async create(): Promise<boolean> {
    const stored = await newKey();
    try {
      this.persist([stored], { exclusive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    this.keys = [stored];
    this.signing = await importSigning(stored);
    return true;
  }

  /** Makes a new active key; the old one keeps verifying (status `retiring`) until retired. */
  async rotate(): Promise<string> {
    const stored = await newKey();
    const next = [...this.keys.map((k) => ({ ...k, status: 'retiring' as const })), stored];
    this.persist(next);
    this.keys = next;
    this.signing = await importSigning(stored);
    return stored.kid;
  }

  /** Drops a retiring key: tokens signed with it stop verifying at once. */
  retire(kid: string): void {
    const key = this.keys.find((k) => k.kid === kid);
    if (key === undefined) throw new BrainmeshError('NOT_FOUND', `no key ${kid}`);
    if (key.status === 'active') throw new BrainmeshError('CONFLICT', `key ${kid} is the active key; rotate first`);
    const next = this.keys.filter((k) => k.kid !== kid);
    this.persist(next);
    this.keys = next;
  }

  private persist(keys: StoredKey[], options: { exclusive?: boolean } = {}): void {
    if (this.file === undefined) return;
    // Written whole to a temporary file and moved into place, so a crash never leaves half a key
    // file; a first ring is linked rather than renamed, which fails if another process's is there.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    if (options.exclusive !== true) {
      renameSync(tmp, this.file);
      return;
    }
    try {
      linkSync(tmp, this.file);
    } finally {
      unlinkSync(tmp);
    }
  }
}

async function newKey(): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(LINK_ALG, { crv: 'Ed25519', extractable: true });
  const kid = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(6).toString('hex')}`;
  return {
    kid,
    status: 'active',
    createdAt: new Date().toISOString(),
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: LINK_ALG },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: LINK_ALG, use: 'sig' },
  };
}

async function importSigning(stored: StoredKey): Promise<SigningKey> {
  const key = await importJWK(stored.privateJwk as JWK, LINK_ALG);
  return { kid: stored.kid, key: key as CryptoKey };
}

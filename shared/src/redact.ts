/**
 * Secret-shaped fields never reach a log line or an audit row. Matching is by key name, because a
 * value cannot be told from a secret by looking at it; bearer strings are caught by value too.
 */

export const REDACTED = '[redacted]';

const SECRET_KEY =
  /(pass(word|phrase|wd)?|secret|token|authorization|cookie|credential|(api|access|private|secret|signing|sso)[-_]?key|auth[-_]?code|^jwt$|^otp$|^pin$)/i;

const BEARER = /^(bearer|basic|sso-key)\s+\S+/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy of `value` with secret fields replaced. `extraKeys` names more fields to hide (exact,
 * case-insensitive). Cycles and depth are bounded so a hostile object cannot hang a logger.
 */
export function redactSecrets(value: unknown, extraKeys: readonly string[] = []): unknown {
  const extra = new Set(extraKeys.map((k) => k.toLowerCase()));
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return BEARER.test(v) ? REDACTED : v;
    if (typeof v !== 'object' || v === null) return v;
    if (depth > 12) return '[depth limit]';
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    // Class instances (requests, errors, dates) are left to pino's serializers, which pick safe fields.
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) {
      out[k] = isSecretKey(k) || extra.has(k.toLowerCase()) ? REDACTED : walk(child, depth + 1);
    }
    return out;
  };
  return walk(value, 0);
}

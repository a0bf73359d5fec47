import { createHash } from 'node:crypto';

/**
 * Names clients see: `<namespace>__<tool>`, only `[A-Za-z0-9_-]`, at most 64 characters (what
 * Claude accepts; MCP itself allows more). A longer name is cut and given a stable hash suffix of
 * the full name, so it is the same on every hub and every restart. The hub keeps the reverse map.
 */

export const CLIENT_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const MAX_CLIENT_NAME = 64;
export const NAMESPACE_SEPARATOR = '__';

export function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function namespacedName(namespace: string, name: string): string {
  const full = `${sanitizeName(namespace)}${NAMESPACE_SEPARATOR}${sanitizeName(name)}`;
  if (full.length <= MAX_CLIENT_NAME) return full;
  // The hash is over the unsanitised pair, so two names that sanitise alike still differ.
  const hash = createHash('sha256').update(`${namespace}\u0000${name}`).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_CLIENT_NAME - hash.length - 1)}_${hash}`;
}

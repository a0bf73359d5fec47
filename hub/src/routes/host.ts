import type { AddressInfo } from 'node:net';
import { BrainmeshError, publicError } from '@brainmesh/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Refuses requests whose Host header is not one of the hub's own names. A page on evil.example
 * whose name is then rebound to 127.0.0.1 (DNS rebinding) reaches a loopback hub as the same
 * origin, so its GETs carry no Origin header for the Origin check to refuse; they do carry
 * `Host: evil.example:PORT`, which is what this refuses.
 *
 * Bound to loopback, the hub answers to 127.0.0.1, localhost and [::1] (and the address it is
 * bound to) on its actual port, the host of `hub.publicUrl` and each of `server.allowedHosts`
 * (any port, unless an entry names one). Bound beyond loopback, a hub is reached by names it
 * cannot guess (a container's service name, a proxy's upstream address), so it checks Host only
 * when `server.allowedHosts` is set, as the MCP SDK's own servers do.
 */

/** A Host header or `allowedHosts` entry: a name or an address, with an optional port. */
export const HOST_PATTERN = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/;

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

function isLoopback(bindHost: string): boolean {
  return bindHost === 'localhost' || bindHost === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bindHost);
}

/** Whether Host is checked at all: bound to loopback, or told which names to answer to. */
export function checksHost(policy: Pick<HostPolicy, 'bindHost' | 'allowedHosts'>): boolean {
  return isLoopback(policy.bindHost) || policy.allowedHosts.length > 0;
}

function parseHost(value: string): { name: string; port: string | undefined } | undefined {
  const m = HOST_PATTERN.exec(value.toLowerCase());
  return m === null ? undefined : { name: m[1]!, port: m[2] };
}

export interface HostPolicy {
  /** The address the hub is told to listen on (`server.host`). */
  bindHost: string;
  /** The port it actually listens on. */
  port: number;
  allowedHosts: readonly string[];
  publicUrl: string | undefined;
}

/** Whether a Host header names this hub; undefined when Host is not checked at all. */
export function hostCheck(policy: HostPolicy): ((host: string | undefined) => boolean) | undefined {
  if (!checksHost(policy)) return undefined;
  const bound = policy.bindHost.includes(':') ? `[${policy.bindHost}]` : policy.bindHost;
  const wildcard = ['0.0.0.0', '[::]'].includes(bound);
  /** name:port pairs served on exactly that port; names served on any port. */
  const exact = new Set([...LOOPBACK, ...(wildcard ? [] : [bound])].map((n) => `${n}:${policy.port}`));
  const anyPort = new Set<string>();
  if (policy.publicUrl !== undefined) anyPort.add(new URL(policy.publicUrl).hostname);
  for (const entry of policy.allowedHosts) {
    const parsed = parseHost(entry);
    if (parsed === undefined) continue; // refused by the config schema already
    if (parsed.port === undefined) anyPort.add(parsed.name);
    else exact.add(`${parsed.name}:${Number(parsed.port)}`);
  }
  return (host) => {
    const parsed = host === undefined ? undefined : parseHost(host);
    if (parsed === undefined) return false;
    // No port in Host means the scheme's default; the hub itself speaks plain http.
    return anyPort.has(parsed.name) || exact.has(`${parsed.name}:${Number(parsed.port ?? 80)}`);
  };
}

/**
 * The guard for a server whose port is known once it listens (port 0 in tests). Until then the
 * only requests are injected by the process itself, and they pass.
 */
export function hostGuard(options: Omit<HostPolicy, 'port'> & { address: () => AddressInfo | string | null }) {
  let check: ReturnType<typeof hostCheck> | null = null;
  const current = () => {
    if (check !== null) return check;
    const address = options.address();
    if (typeof address !== 'object' || address === null) return undefined;
    check = hostCheck({ ...options, port: address.port });
    return check;
  };
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = current();
    const { host } = request.headers;
    if (allowed === undefined || allowed(host)) return;
    request.log.warn({ host: host?.slice(0, 200) }, 'foreign host refused');
    return reply.code(403).send(publicError(new BrainmeshError('FORBIDDEN', 'this Host is not allowed')));
  };
}

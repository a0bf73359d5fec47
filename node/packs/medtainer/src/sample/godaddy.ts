import { type EmulatedRequest, type EmulatedResponse, Emulator, type EmulatorOptions } from '@brainmesh/node/kit';
import { z } from 'zod';
import { type DnsRecord, type DomainDetail, dnsRecord, dnsRecordType } from '../godaddy/wire.js';
import type { SampleBusiness } from './business.js';

/**
 * GoDaddy's Domains API v1 over the sample business, as docs/research/godaddy.md describes it:
 * sso-key auth, bare JSON arrays, marker paging of domains and offset/limit paging of DNS records,
 * micro-unit prices, a dummy transfer code on every domain (so that the connector's dropping it is
 * exercised), and 60 requests a minute per key and endpoint (unless `rateLimits` is false).
 */

const WINDOW_MS = 60_000;
const PER_WINDOW = 60;
const MAX_LIMIT = 1000;

/** A stand-in transfer code: GoDaddy always sends one, and it must never get past the connector. */
export const SAMPLE_AUTH_CODE = 'SAMPLE-AUTHCODE-DO-NOT-SHOW';

/** Yearly prices in micro-units, as GoDaddy sends them. */
const TLD_PRICES: Record<string, number> = {
  com: 11_990_000,
  net: 13_990_000,
  org: 9_990_000,
  io: 39_990_000,
  co: 24_990_000,
  health: 79_990_000,
  clinic: 59_990_000,
  care: 34_990_000,
  us: 7_990_000,
  info: 4_990_000,
  biz: 14_990_000,
  app: 15_990_000,
  dev: 13_990_000,
  shop: 2_990_000,
};

/** Names anyone would expect to be gone. */
const TAKEN = new Set(['google', 'amazon', 'example', 'facebook', 'apple', 'microsoft', 'clinic', 'health', 'vet']);

const error = (
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): EmulatedResponse => ({
  status,
  body: { code, message, ...extra },
});

const notFound = (what = 'The requested resource was not found') => error(404, 'NOT_FOUND', what);

const recordValue = dnsRecord.omit({ type: true, name: true });

export function goDaddyEmulator(
  business: SampleBusiness,
  credentials: { key: string; secret: string },
  options: EmulatorOptions = {},
): Emulator {
  const now = options.now ?? Date.now;
  const limited = options.rateLimits !== false;
  const data = business.godaddy;
  const expectedAuth = `sso-key ${credentials.key}:${credentials.secret}`;
  // Request times per (key, endpoint): GoDaddy counts each endpoint on its own.
  const windows = new Map<string, number[]>();

  const findDomain = (name: string): DomainDetail | undefined =>
    data.domains.find((d) => d.domain === name.toLowerCase());
  const recordsOf = (domain: DomainDetail): DnsRecord[] => {
    let records = data.records.get(domain.domain);
    if (records === undefined) {
      records = [];
      data.records.set(domain.domain, records);
    }
    return records;
  };

  const emulator = new Emulator({
    before(req, route) {
      if (req.headers.get('authorization') !== expectedAuth)
        return error(401, 'UNABLE_TO_AUTHENTICATE', 'Unauthorized : Could not authenticate API key/secret');
      if (!limited) return undefined;
      const key = `${credentials.key} ${route}`;
      const at = now();
      const recent = (windows.get(key) ?? []).filter((t) => t > at - WINDOW_MS);
      windows.set(key, recent);
      if (recent.length >= PER_WINDOW) {
        const retryAfterSec = Math.max(1, Math.ceil(((recent[0] ?? at) + WINDOW_MS - at) / 1000));
        return error(429, 'TOO_MANY_REQUESTS', 'Too many requests received within interval', { retryAfterSec });
      }
      recent.push(at);
      return undefined;
    },
    notFound(req) {
      if (req.headers.get('authorization') !== expectedAuth)
        return error(401, 'UNABLE_TO_AUTHENTICATE', 'Unauthorized : Could not authenticate API key/secret');
      return notFound();
    },
  });

  const withDomain = (req: EmulatedRequest, then: (domain: DomainDetail) => EmulatedResponse): EmulatedResponse => {
    const domain = findDomain(req.params.domain ?? '');
    return domain === undefined
      ? notFound(`The given domain is not registered, or does not have a zone file`)
      : then(domain);
  };

  const recordType = (req: EmulatedRequest): EmulatedResponse | string => {
    const type = dnsRecordType.safeParse(req.params.type);
    return type.success ? type.data : invalid('type', `\`type\` must be one of ${dnsRecordType.options.join(', ')}`);
  };

  // The fixed paths first: `available` and `suggest` are not domain names.
  emulator
    .route('GET', '/v1/domains/available', (req) => {
      const domain = (req.query.get('domain') ?? '').toLowerCase();
      if (domain === '') return invalid('domain', '`domain` must be specified');
      return { status: 200, body: availability(domain, req.query, findDomain(domain) !== undefined) };
    })
    .route('GET', '/v1/domains/suggest', (req) => {
      const query = req.query.get('query') ?? '';
      if (query.trim() === '') return invalid('query', '`query` must be specified');
      const limit = Number(req.query.get('limit') ?? '10');
      const tlds = req.query.get('tlds')?.split(',').filter(Boolean);
      const suggestions = suggest(query, tlds)
        .filter((d) => findDomain(d) === undefined && !isTaken(d))
        .slice(0, Number.isInteger(limit) && limit > 0 ? limit : 10)
        .map((domain) => ({ domain }));
      return { status: 200, body: suggestions };
    })
    .route('GET', '/v1/domains', (req) => {
      const limitText = req.query.get('limit');
      const limit = limitText === null ? MAX_LIMIT : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1) return invalid('limit', 'Limit must have a value no less than 1');
      if (limit > MAX_LIMIT) return invalid('limit', `Limit must have a value no greater than ${MAX_LIMIT}`);
      const statuses = req.query.get('statuses')?.split(',').filter(Boolean);
      const marker = req.query.get('marker');
      const includes = new Set(req.query.get('includes')?.split(',') ?? []);
      const page = [...data.domains]
        .sort((a, b) => compare(a.domain, b.domain))
        .filter((d) => statuses === undefined || statuses.includes(d.status))
        .filter((d) => marker === null || compare(d.domain, marker) > 0)
        .slice(0, limit)
        .map((d) => listItem(d, includes));
      return { status: 200, body: page };
    })
    .route('GET', '/v1/domains/:domain', (req) =>
      withDomain(req, (d) => ({
        status: 200,
        body: { ...structuredClone(d), authCode: d.authCode ?? SAMPLE_AUTH_CODE },
      })),
    )
    .route('PATCH', '/v1/domains/:domain', (req) =>
      withDomain(req, (domain) => {
        const update = z
          .object({
            nameServers: z.array(z.string()).optional(),
            renewAuto: z.boolean().optional(),
            locked: z.boolean().optional(),
            subaccountId: z.string().optional(),
          })
          .safeParse(req.body);
        if (!update.success) return invalidBody(update.error);
        const { nameServers, renewAuto, locked } = update.data;
        if (nameServers !== undefined && nameServers.length < 2)
          return invalid('nameServers', 'At least two apex (aka @) `nameServers` must be specified');
        if (nameServers !== undefined) domain.nameServers = nameServers.map((n) => n.toLowerCase());
        if (renewAuto !== undefined) domain.renewAuto = renewAuto;
        if (locked !== undefined) domain.locked = locked;
        return { status: 200 };
      }),
    )
    .route('GET', '/v1/domains/:domain/records', (req) =>
      withDomain(req, (domain) => recordPage(req, recordsOf(domain))),
    )
    .route('GET', '/v1/domains/:domain/records/:type', (req) =>
      withDomain(req, (domain) => {
        const type = recordType(req);
        if (typeof type !== 'string') return type;
        return recordPage(
          req,
          recordsOf(domain).filter((r) => r.type === type),
        );
      }),
    )
    .route('GET', '/v1/domains/:domain/records/:type/:name', (req) =>
      withDomain(req, (domain) => {
        const type = recordType(req);
        if (typeof type !== 'string') return type;
        return recordPage(
          req,
          recordsOf(domain).filter((r) => r.type === type && r.name === req.params.name),
        );
      }),
    )
    .route('PATCH', '/v1/domains/:domain/records', (req) =>
      withDomain(req, (domain) => {
        const parsed = z.array(dnsRecord).min(1).safeParse(req.body);
        if (!parsed.success) return invalidBody(parsed.error, 'records');
        const records = recordsOf(domain);
        const adding: DnsRecord[] = [];
        for (const record of parsed.data) {
          const problem = ttlProblem(record.ttl);
          if (problem !== undefined) return problem;
          const same = (r: DnsRecord) => r.type === record.type && r.name === record.name && r.data === record.data;
          if (records.some(same) || adding.some(same))
            return error(422, 'DUPLICATE_RECORD', 'Another record with the same attributes already exists');
          adding.push({ ...record, ttl: record.ttl ?? 3600 });
        }
        records.push(...adding);
        return { status: 200 };
      }),
    )
    .route('PUT', '/v1/domains/:domain/records/:type/:name', (req) =>
      withDomain(req, (domain) => {
        const type = recordType(req);
        if (typeof type !== 'string') return type;
        const parsed = z.array(recordValue).safeParse(req.body);
        if (!parsed.success) return invalidBody(parsed.error, 'records');
        for (const value of parsed.data) {
          const problem = ttlProblem(value.ttl);
          if (problem !== undefined) return problem;
        }
        const name = req.params.name ?? '';
        const kept = recordsOf(domain).filter((r) => !(r.type === type && r.name === name));
        const added = parsed.data.map((v) => ({ ...v, type: type as DnsRecord['type'], name, ttl: v.ttl ?? 3600 }));
        data.records.set(domain.domain, [...kept, ...added]);
        return { status: 200 };
      }),
    );

  return emulator;
}

/**
 * One page of records by `offset` ("Number of results to skip") and `limit` ("Maximum number of
 * items to return"). GoDaddy documents no default or maximum for either: left out, the page starts
 * at the first record and holds the rest.
 */
function recordPage(req: EmulatedRequest, records: readonly DnsRecord[]): EmulatedResponse {
  const offsetText = req.query.get('offset');
  const limitText = req.query.get('limit');
  const offset = offsetText === null ? 0 : Number(offsetText);
  const limit = limitText === null ? records.length : Number(limitText);
  if (!Number.isInteger(offset) || offset < 0) return invalid('offset', 'Offset must have a value no less than 0');
  if (!Number.isInteger(limit) || limit < 1) return invalid('limit', 'Limit must have a value no less than 1');
  return { status: 200, body: structuredClone(records.slice(offset, offset + limit)) };
}

/** What the list sends for a domain: a summary, with extra detail only when `includes` asks. */
function listItem(d: DomainDetail, includes: Set<string>): Record<string, unknown> {
  const { authCode, contactRegistrant, contactAdmin, contactBilling, contactTech, nameServers, ...rest } =
    structuredClone(d);
  return {
    ...rest,
    nameServers: includes.has('nameServers') ? (nameServers ?? null) : null,
    contactRegistrant,
    ...(includes.has('contacts') ? { contactAdmin, contactBilling, contactTech } : {}),
    ...(includes.has('authCode') ? { authCode: authCode ?? SAMPLE_AUTH_CODE } : {}),
  };
}

function availability(domain: string, query: URLSearchParams, owned: boolean): Record<string, unknown> {
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  const base = TLD_PRICES[tld];
  const forTransfer = query.get('forTransfer') === 'true';
  const full = (query.get('checkType') ?? 'FAST').toUpperCase() === 'FULL';
  const taken = owned || isTaken(domain);
  // Registration is possible when free; a transfer in, when someone else holds it.
  const available = base !== undefined && (forTransfer ? taken && !owned : !taken);
  const answer: Record<string, unknown> = { domain, available, definitive: full || forTransfer || !available };
  if (base === undefined) return answer;
  const label = domain.slice(0, domain.indexOf('.'));
  // Short names are premium: a price from the name, so it is the same on every call.
  const price = label.length <= 4 ? base * 10 + (hash(domain) % 500) * 1_000_000 : base;
  return { ...answer, price, currency: 'USD', period: 1 };
}

function isTaken(domain: string): boolean {
  const label = domain.slice(0, domain.indexOf('.'));
  return TAKEN.has(label) || label.length <= 2;
}

function suggest(query: string, tlds: string[] | undefined): string[] {
  const words = query
    .toLowerCase()
    .replace(/\.[a-z.]+$/, '')
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const base = words.join('') || 'site';
  const stems = [
    base,
    words.join('-'),
    `get${base}`,
    `${base}hq`,
    `my${base}`,
    `${base}online`,
    `try${base}`,
    `${base}now`,
  ];
  const endings = tlds ?? ['com', 'net', 'co', 'health', 'io', 'clinic', 'org'];
  const out: string[] = [];
  for (const stem of new Set(stems))
    for (const tld of endings) if (stem.length > 0 && stem.length <= 63) out.push(`${stem}.${tld}`);
  return [...new Set(out)];
}

function ttlProblem(ttl: number | undefined): EmulatedResponse | undefined {
  return ttl !== undefined && ttl < 600 ? invalid('records.ttl', '`ttl` must be at least 600') : undefined;
}

function invalid(path: string, message: string): EmulatedResponse {
  return error(422, 'INVALID_BODY', message, { fields: [{ path, code: 'INVALID_VALUE', message }] });
}

function invalidBody(err: z.ZodError, root = 'body'): EmulatedResponse {
  return error(422, 'INVALID_BODY', 'Request body doesn’t fulfill schema, see details in `fields`', {
    fields: err.issues.slice(0, 5).map((i) => ({
      path: [root, ...i.path].join('.'),
      code: 'MISMATCH_FORMAT',
      message: i.message,
    })),
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** FNV-1a: a stable number from a name, never Math.random. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

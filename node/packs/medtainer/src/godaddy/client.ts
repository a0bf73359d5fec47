import { type ApiClient, parseAnswer, unreadable } from '@brainmesh/node/kit';
import { z } from 'zod';
import {
  type DnsRecord,
  type DomainDetail,
  type DomainSummary,
  dnsRecord,
  type dnsRecordType,
  domainDetail,
  domainSummary,
} from './wire.js';

export type DnsRecordType = z.infer<typeof dnsRecordType>;

/**
 * GoDaddy Domains API v1 (docs/research/godaddy.md): domains, availability, suggestions and DNS
 * records. Every body is checked against the documented shape before anyone sees it, and a
 * domain's transfer code (`authCode`) is dropped the moment it is parsed.
 */

const SERVICE = 'GoDaddy';

/** The documented maximum page size for the domain list. */
const DOMAIN_PAGE_LIMIT = 1000;

/**
 * The page size for DNS record reads (`offset`/`limit`; GoDaddy documents neither a default nor a
 * maximum). A page shorter than this is the last.
 */
export const RECORD_PAGE_LIMIT = 500;

/** `Omit` would lose the named fields of a loose (index-signed) object; this keeps them. */
type Without<T, K extends string> = { [P in keyof T as P extends K ? never : P]: T[P] };

/** A domain as brainmesh holds it: everything GoDaddy sent except the transfer code. */
export type Domain = Without<DomainDetail, 'authCode'>;
export type DomainListItem = Without<DomainSummary, 'authCode'>;

export interface Availability {
  domain: string;
  available: boolean;
  definitive: boolean;
  /** In currency units (GoDaddy sends micro-units), before taxes and fees. */
  price?: number;
  currency?: string;
  /** Years the price covers. */
  period?: number;
}

/** A record as PUT …/records/{type}/{name} takes it: type and name come from the path. */
export type RecordValue = Omit<DnsRecord, 'type' | 'name'>;

export interface DomainUpdate {
  nameServers?: string[];
  renewAuto?: boolean;
  locked?: boolean;
}

const availability = z.looseObject({
  domain: z.string(),
  available: z.boolean(),
  definitive: z.boolean(),
  price: z.number().optional(),
  currency: z.string().optional(),
  period: z.number().optional(),
});

const suggestion = z.looseObject({ domain: z.string() });

export class GoDaddyApi {
  constructor(
    private readonly client: ApiClient,
    private readonly shopperId: string | undefined,
  ) {}

  async listDomains(
    options: { statuses?: readonly string[] | undefined; limit: number; marker?: string | undefined },
    signal?: AbortSignal,
  ): Promise<DomainListItem[]> {
    const body = await this.get(
      '/v1/domains',
      {
        statuses: options.statuses !== undefined && options.statuses.length > 0 ? options.statuses : undefined,
        limit: options.limit,
        marker: options.marker,
      },
      signal,
    );
    return parseAnswer(SERVICE, z.array(domainSummary), body).map((d) => withoutAuthCode(d));
  }

  /** Every domain, a page of 1,000 at a time; the next page starts after the last domain seen. */
  async allDomains(options: { statuses?: readonly string[] } = {}, signal?: AbortSignal): Promise<DomainListItem[]> {
    const seen = new Map<string, DomainListItem>();
    let marker: string | undefined;
    for (;;) {
      const page = await this.listDomains({ ...options, limit: DOMAIN_PAGE_LIMIT, marker }, signal);
      // Whether the marker itself comes back is undocumented: deduping makes either answer right.
      for (const domain of page) if (!seen.has(domain.domain)) seen.set(domain.domain, domain);
      const last = page.at(-1)?.domain;
      if (page.length < DOMAIN_PAGE_LIMIT || last === undefined) break;
      // A server that ignored the marker would send the same page forever.
      if (last === marker) throw unreadable(SERVICE, 'the domain list repeated a page');
      marker = last;
    }
    return [...seen.values()];
  }

  async getDomain(domain: string, signal?: AbortSignal): Promise<Domain> {
    const body = await this.get(`/v1/domains/${encodeURIComponent(domain)}`, undefined, signal);
    return withoutAuthCode(parseAnswer(SERVICE, domainDetail, body));
  }

  async checkAvailability(
    domain: string,
    options: { checkType?: 'FAST' | 'FULL'; forTransfer?: boolean } = {},
    signal?: AbortSignal,
  ): Promise<Availability> {
    const body = await this.get(
      '/v1/domains/available',
      { domain, checkType: options.checkType, forTransfer: options.forTransfer },
      signal,
    );
    const answer = parseAnswer(SERVICE, availability, body);
    return {
      domain: answer.domain,
      available: answer.available,
      definitive: answer.definitive,
      ...(answer.price === undefined ? {} : { price: answer.price / 1_000_000 }),
      ...(answer.currency === undefined ? {} : { currency: answer.currency }),
      ...(answer.period === undefined ? {} : { period: answer.period }),
    };
  }

  async suggestDomains(
    query: string,
    options: { limit: number; tlds?: readonly string[] },
    signal?: AbortSignal,
  ): Promise<string[]> {
    const body = await this.get(
      '/v1/domains/suggest',
      {
        query,
        limit: options.limit,
        tlds: options.tlds !== undefined && options.tlds.length > 0 ? options.tlds : undefined,
      },
      signal,
    );
    return parseAnswer(SERVICE, z.array(suggestion), body).map((s) => s.domain);
  }

  /**
   * All records, those of a type, or those of a type and name; a name alone is filtered here.
   * Read a page of RECORD_PAGE_LIMIT at a time, by `offset`, until a short page.
   */
  async getRecords(
    domain: string,
    filter: { type?: DnsRecordType; name?: string } = {},
    signal?: AbortSignal,
  ): Promise<DnsRecord[]> {
    let path = `/v1/domains/${encodeURIComponent(domain)}/records`;
    if (filter.type !== undefined) {
      path += `/${filter.type}`;
      if (filter.name !== undefined) path += `/${segment(filter.name)}`;
    }
    // GoDaddy refuses exact duplicates, so a record seen twice is one record read twice (the zone
    // changed under the read, or the offset was not honoured).
    const seen = new Map<string, DnsRecord>();
    for (let offset = 0; ; offset += RECORD_PAGE_LIMIT) {
      const page = parseAnswer(
        SERVICE,
        z.array(dnsRecord),
        await this.get(path, { offset, limit: RECORD_PAGE_LIMIT }, signal),
      );
      const before = seen.size;
      for (const record of page) {
        const key = recordKey(record);
        if (!seen.has(key)) seen.set(key, record);
      }
      if (page.length < RECORD_PAGE_LIMIT) break;
      // A server that ignored the offset would send the first page forever.
      if (seen.size === before) throw unreadable(SERVICE, `the DNS records of ${domain} repeated a page`);
    }
    const records = [...seen.values()];
    return filter.type === undefined && filter.name !== undefined
      ? records.filter((r) => r.name === filter.name)
      : records;
  }

  /** Adds to what is there. A second send would add again (or fail as a duplicate), so it is sent once. */
  async addRecords(domain: string, records: readonly DnsRecord[], signal?: AbortSignal): Promise<void> {
    await this.client.request({
      method: 'PATCH',
      path: `/v1/domains/${encodeURIComponent(domain)}/records`,
      body: records,
      headers: this.headers(),
      idempotent: false,
      signal,
    });
  }

  /** Sets the records of one type and name to exactly these: repeating it changes nothing more. */
  async replaceRecords(
    domain: string,
    type: DnsRecordType,
    name: string,
    records: readonly RecordValue[],
    signal?: AbortSignal,
  ): Promise<void> {
    await this.client.request({
      method: 'PUT',
      path: `/v1/domains/${encodeURIComponent(domain)}/records/${type}/${segment(name)}`,
      body: records,
      headers: this.headers(),
      idempotent: true,
      signal,
    });
  }

  /** Sets values (not increments), so a repeat is harmless and it may be retried. */
  async updateDomain(domain: string, update: DomainUpdate, signal?: AbortSignal): Promise<void> {
    await this.client.request({
      method: 'PATCH',
      path: `/v1/domains/${encodeURIComponent(domain)}`,
      body: update,
      headers: this.headers(),
      idempotent: true,
      signal,
    });
  }

  private async get(
    path: string,
    query: Record<string, string | number | boolean | readonly string[] | undefined> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const res = await this.client.request({
      method: 'GET',
      path,
      ...(query === undefined ? {} : { query }),
      headers: this.headers(),
      idempotent: true,
      signal,
    });
    return res.body;
  }

  private headers(): Record<string, string> {
    return this.shopperId === undefined ? {} : { 'x-shopper-id': this.shopperId };
  }
}

/** A record name in a path: `@` is legal there, and GoDaddy's own examples send it as is. */
function segment(name: string): string {
  return encodeURIComponent(name).replace(/%40/g, '@');
}

function withoutAuthCode<T extends object>(domain: T): Without<T, 'authCode'> {
  const { authCode: _dropped, ...rest } = domain as T & { authCode?: unknown };
  return rest as unknown as Without<T, 'authCode'>;
}

/** What makes a record itself: everything but its TTL. */
function recordKey(r: DnsRecord): string {
  return JSON.stringify([r.type, r.name, r.data, r.priority, r.port, r.weight, r.protocol, r.service]);
}

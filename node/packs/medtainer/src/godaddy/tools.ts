import { isIP } from 'node:net';
import { defineTool, type ToolDefinition, textResult } from '@brainmesh/node';
import { changes, confirmChange, confirmField, defined, READ_ONLY, reply } from '@brainmesh/node/kit';
import { z } from 'zod';
import type { Mode } from '../connections.js';
import type { Domain, DomainListItem, DomainUpdate, GoDaddyApi } from './client.js';
import { type DnsRecord, dnsRecordType } from './wire.js';

/**
 * GoDaddy for a small business: which domains it holds and when they lapse, whether a name is
 * free and at what price, and its DNS. Writes are gated by confirmChange and name exactly what
 * they will change.
 */

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN_RE = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$`);

const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(DOMAIN_RE, 'a domain name such as example.com')
  .describe('Domain name, e.g. example.com');

const hostName = z.string().trim().toLowerCase().regex(DOMAIN_RE, 'a host name such as ns1.example.com');

// GoDaddy's record names: `@` for the apex, labels such as `www` or `_acme-challenge`, a `*` wildcard.
const recordName = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(
    /^(?:@|(?:\*\.)?[A-Za-z0-9_*](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*)$/,
    '`@` for the apex, or a host label such as www',
  )
  .describe('Record name (host): `@` for the domain itself, or a label such as www or _acme-challenge');

// SOA is GoDaddy's own; CAA is not among the types v1 documents for writes. Both are read, never written.
// NS stays in the list so that asking for it gets the refusal below, which says where to go instead.
const writableType = dnsRecordType
  .exclude(['SOA', 'CAA'])
  .describe('Record type (not NS: a domain’s name servers are changed with godaddy.update_domain)');

/**
 * NS records are never written here. The domain's own name servers are set at the registry with
 * godaddy.update_domain, and replacing NS at @ in the zone breaks the domain's delegation.
 */
const NS_REFUSED =
  'NS records are not changed with this tool: a domain’s name servers are set with godaddy.update_domain ' +
  '(name_servers), and replacing the NS records at @ would break the domain’s delegation. Nothing was changed.';

const ttl = z
  .number()
  .int()
  .min(600)
  .max(604_800)
  .default(3600)
  .describe('Time to live in seconds: 600 (GoDaddy’s minimum) to 604800; 3600 when left out');

const recordValueFields = {
  data: z
    .string()
    .trim()
    .min(1)
    .max(4096)
    .describe('Value: an IP for A/AAAA, a host for CNAME/MX/NS/SRV, text for TXT'),
  ttl,
  priority: z.number().int().min(0).max(65_535).optional().describe('MX and SRV only: lower is preferred'),
  port: z.number().int().min(1).max(65_535).optional().describe('SRV only'),
  weight: z.number().int().min(0).max(65_535).optional().describe('SRV only'),
  protocol: z
    .string()
    .regex(/^_?[a-z]+$/i)
    .max(10)
    .optional()
    .describe('SRV only, e.g. _tcp'),
  service: z
    .string()
    .regex(/^_?[a-z0-9-]+$/i)
    .max(63)
    .optional()
    .describe('SRV only, e.g. _sip'),
};

type RecordShape = {
  type: string;
  data: string;
  priority?: number | undefined;
  port?: number | undefined;
  weight?: number | undefined;
  protocol?: string | undefined;
  service?: string | undefined;
};

/** What GoDaddy would refuse with a 422, said before anything is sent. */
function checkRecord(record: RecordShape, ctx: z.RefinementCtx, path: (string | number)[] = []): void {
  const problem = (message: string, field = 'data') =>
    ctx.addIssue({ code: 'custom', message, path: [...path, field] });
  if (record.type === 'A' && isIP(record.data) !== 4) problem('an A record needs an IPv4 address');
  if (record.type === 'AAAA' && isIP(record.data) !== 6) problem('an AAAA record needs an IPv6 address');
  if (record.type === 'MX' && record.priority === undefined) problem('an MX record needs a priority', 'priority');
  if (record.type === 'SRV')
    for (const field of ['priority', 'port', 'weight', 'protocol', 'service'] as const)
      if (record[field] === undefined) problem(`an SRV record needs ${field}`, field);
}

const newRecord = z
  .object({ type: writableType, name: recordName, ...recordValueFields })
  .superRefine((r, ctx) => checkRecord(r, ctx));

const recordValue = z.object(recordValueFields);

export function goDaddyTools(deps: { api: GoDaddyApi; mode: Mode }): ToolDefinition[] {
  const { api } = deps;
  const from = { source: deps.mode } as const;

  return [
    defineTool({
      name: 'godaddy.list_domains',
      title: 'GoDaddy: list domains',
      description:
        'Every domain in the GoDaddy account (all pages), sorted by name, with status, expiry, auto-renew and lock. ' +
        'Use expiring_within_days to find what lapses soon: domains whose expiry date has already passed are not ' +
        'among those, and are listed apart under alreadyExpired. Name servers and contacts: godaddy.get_domain.',
      input: z.object({
        statuses: z
          .array(z.string().regex(/^[A-Z_]{2,64}$/, 'a GoDaddy status such as ACTIVE'))
          .max(20)
          .optional()
          .describe('Only domains in these GoDaddy statuses, e.g. ["ACTIVE"]'),
        expiring_within_days: z
          .number()
          .int()
          .min(0)
          .max(3650)
          .optional()
          .describe(
            'Only domains that have not expired yet and expire within this many days from now; those already ' +
              'past their expiry date come back separately, as alreadyExpired',
          ),
        max_results: z
          .number()
          .int()
          .min(1)
          .max(5000)
          .default(1000)
          .describe('Most domains to list; the count covers them all'),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        let domains = await api.allDomains(args.statuses === undefined ? {} : { statuses: args.statuses }, ctx.signal);
        domains.sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
        let expired: DomainListItem[] | undefined;
        if (args.expiring_within_days !== undefined) {
          const now = Date.now();
          const before = now + args.expiring_within_days * 86_400_000;
          const expiry = (d: DomainListItem) => (d.expires === undefined ? Number.NaN : Date.parse(d.expires));
          // Lapsing soon and already lapsed are different news: the second is not "within N days".
          expired = domains.filter((d) => expiry(d) <= now);
          domains = domains.filter((d) => expiry(d) > now && expiry(d) <= before);
        }
        return reply(ctx, from, {
          ...page(domains, args.max_results),
          ...(expired === undefined ? {} : { alreadyExpired: page(expired, args.max_results) }),
        });
      },
    }),

    defineTool({
      name: 'godaddy.get_domain',
      title: 'GoDaddy: one domain',
      description:
        'One domain in detail: status, dates, auto-renew, lock, privacy, protection, name servers and the registrant. ' +
        'The transfer authorisation code is never shown.',
      input: z.object({ domain: domainName }),
      annotations: READ_ONLY,
      handler: async ({ domain }, ctx) => reply(ctx, from, { domain: detail(await api.getDomain(domain, ctx.signal)) }),
    }),

    defineTool({
      name: 'godaddy.check_availability',
      title: 'GoDaddy: is a domain free',
      description:
        'Whether a domain can be registered (or, with for_transfer, transferred in), and GoDaddy’s price in currency ' +
        'units for the period it covers, before taxes and fees. FAST checks may be non-definitive; FULL is slower and sure.',
      input: z.object({
        domain: domainName,
        check_type: z.enum(['FAST', 'FULL']).default('FAST').describe('FAST (default) or FULL'),
        for_transfer: z.boolean().default(false).describe('Check transfer rather than registration'),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        const answer = await api.checkAvailability(
          args.domain,
          { checkType: args.check_type, forTransfer: args.for_transfer },
          ctx.signal,
        );
        return reply(ctx, from, { ...answer });
      },
    }),

    defineTool({
      name: 'godaddy.suggest_domains',
      title: 'GoDaddy: suggest domain names',
      description:
        'Domain names GoDaddy suggests for keywords or a domain. Suggestions carry no price or availability: ' +
        'check a name with godaddy.check_availability.',
      input: z.object({
        query: z.string().trim().min(1).max(200).describe('Keywords or a domain, e.g. "mobile vet clinic"'),
        limit: z.number().int().min(1).max(100).default(10).describe('How many suggestions'),
        tlds: z
          .array(
            z
              .string()
              .trim()
              .toLowerCase()
              .regex(/^[a-z0-9-]{2,63}$/, 'a TLD without the dot, e.g. com'),
          )
          .max(20)
          .optional()
          .describe('Only these TLDs, without the dot: ["com","health"]'),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        const domains = await api.suggestDomains(
          args.query,
          { limit: args.limit, ...(args.tlds === undefined ? {} : { tlds: args.tlds }) },
          ctx.signal,
        );
        return reply(ctx, from, { query: args.query, count: domains.length, domains });
      },
    }),

    defineTool({
      name: 'godaddy.get_dns_records',
      title: 'GoDaddy: DNS records',
      description: 'A domain’s DNS records held at GoDaddy: all of them, or those of a type, a name, or both.',
      input: z.object({
        domain: domainName,
        type: dnsRecordType.optional().describe('Only records of this type'),
        name: recordName.optional(),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        const records = await api.getRecords(
          args.domain,
          {
            ...(args.type === undefined ? {} : { type: args.type }),
            ...(args.name === undefined ? {} : { name: args.name }),
          },
          ctx.signal,
        );
        return reply(ctx, from, { domain: args.domain, count: records.length, records: records.map(compactRecord) });
      },
    }),

    defineTool({
      name: 'godaddy.add_dns_records',
      title: 'GoDaddy: add DNS records',
      description:
        'Adds DNS records to a domain, beside those already there (an exact duplicate is refused). Changes live DNS. ' +
        'Not NS records: name servers are changed with godaddy.update_domain. ' +
        'Sent once and never retried automatically: after an error, check with godaddy.get_dns_records before trying again.',
      input: z.object({
        domain: domainName,
        records: z.array(newRecord).min(1).max(50).describe('The records to add'),
        confirm: confirmField,
      }),
      annotations: changes(false),
      handler: async (args, ctx) => {
        if (args.records.some((r) => r.type === 'NS')) return textResult(NS_REFUSED, true);
        const what = `add ${plural(args.records.length, 'DNS record')} to ${args.domain}: ${args.records.map(describeRecord).join('; ')}`;
        const ok = await confirmChange(ctx, args.confirm, what);
        if (!ok.ok) return textResult(ok.reason, true);
        const records: DnsRecord[] = args.records.map(({ type, name, ...value }) => ({
          type,
          name,
          ...defined(value),
        }));
        await api.addRecords(args.domain, records, ctx.signal);
        return reply(ctx, from, { done: true, domain: args.domain, added: records.map(compactRecord) });
      },
    }),

    defineTool({
      name: 'godaddy.replace_dns_records',
      title: 'GoDaddy: replace DNS records',
      description:
        'Replaces every record of one type and name on a domain with the given values (e.g. point www somewhere else). ' +
        'Records of that type and name not listed are removed. Changes live DNS. Not NS records: name servers are ' +
        'changed with godaddy.update_domain.',
      input: z
        .object({
          domain: domainName,
          type: writableType,
          name: recordName,
          records: z.array(recordValue).min(1).max(50).describe('The values the type and name will have'),
          confirm: confirmField,
        })
        .superRefine((args, ctx) => {
          args.records.forEach((r, i) => {
            checkRecord({ ...r, type: args.type }, ctx, ['records', i]);
          });
          if (args.type === 'CNAME' && args.records.length > 1)
            ctx.addIssue({ code: 'custom', message: 'a name has at most one CNAME', path: ['records'] });
        }),
      annotations: changes(true),
      handler: async (args, ctx) => {
        if (args.type === 'NS') return textResult(NS_REFUSED, true);
        const what = `replace every ${args.type} record named ${args.name} on ${args.domain} with ${args.records
          .map((r) => describeRecord({ ...r, type: args.type }))
          .join('; ')}`;
        const ok = await confirmChange(ctx, args.confirm, what);
        if (!ok.ok) return textResult(ok.reason, true);
        const records = args.records.map(defined);
        await api.replaceRecords(args.domain, args.type, args.name, records, ctx.signal);
        return reply(ctx, from, {
          done: true,
          domain: args.domain,
          type: args.type,
          name: args.name,
          records: records.map((r) => compactRecord({ type: args.type, name: args.name, ...r })),
        });
      },
    }),

    defineTool({
      name: 'godaddy.update_domain',
      title: 'GoDaddy: change a domain',
      description:
        'Changes a domain’s name servers (at least two; this moves its DNS away from GoDaddy’s if they are not ' +
        'GoDaddy’s), auto-renew, or registrar lock. Give only what should change.',
      input: z
        .object({
          domain: domainName,
          name_servers: z
            .array(hostName)
            .min(2, 'GoDaddy needs at least two name servers')
            .max(13)
            .optional()
            .describe('The name servers the domain will use, e.g. ["ns1.example.net","ns2.example.net"]'),
          renew_auto: z.boolean().optional().describe('Renew automatically before it expires'),
          locked: z.boolean().optional().describe('Registrar lock: true blocks transfers away'),
          confirm: confirmField,
        })
        .refine((a) => a.name_servers !== undefined || a.renew_auto !== undefined || a.locked !== undefined, {
          message: 'give at least one of name_servers, renew_auto, locked',
        }),
      annotations: changes(true),
      handler: async (args, ctx) => {
        const update: DomainUpdate = {
          ...(args.name_servers === undefined ? {} : { nameServers: args.name_servers }),
          ...(args.renew_auto === undefined ? {} : { renewAuto: args.renew_auto }),
          ...(args.locked === undefined ? {} : { locked: args.locked }),
        };
        const changes = [
          update.nameServers === undefined ? undefined : `set name servers to ${update.nameServers.join(', ')}`,
          update.renewAuto === undefined ? undefined : `turn auto-renew ${update.renewAuto ? 'on' : 'off'}`,
          update.locked === undefined ? undefined : update.locked ? 'lock it' : 'unlock it (allows transfer away)',
        ].filter((c) => c !== undefined);
        const ok = await confirmChange(ctx, args.confirm, `change ${args.domain}: ${changes.join(', ')}`);
        if (!ok.ok) return textResult(ok.reason, true);
        await api.updateDomain(args.domain, update, ctx.signal);
        return reply(ctx, from, { done: true, domain: args.domain, changed: update });
      },
    }),
  ];
}

/** A list as shown: how many there are, and no more than `max` of them. */
function page(domains: readonly DomainListItem[], max: number) {
  const shown = domains.slice(0, max);
  return {
    count: domains.length,
    ...(shown.length < domains.length ? { truncated: true, shown: shown.length } : {}),
    domains: shown.map(summary),
  };
}

function summary(d: DomainListItem) {
  return {
    domain: d.domain,
    status: d.status,
    expires: d.expires ?? null,
    renewAuto: d.renewAuto,
    locked: d.locked,
    privacy: d.privacy,
  };
}

function detail(d: Domain) {
  const r = d.contactRegistrant;
  return {
    domain: d.domain,
    domainId: d.domainId,
    status: d.status,
    createdAt: d.createdAt,
    expires: d.expires ?? null,
    renewDeadline: d.renewDeadline,
    renewAuto: d.renewAuto,
    locked: d.locked,
    privacy: d.privacy,
    expirationProtected: d.expirationProtected,
    transferProtected: d.transferProtected,
    holdRegistrar: d.holdRegistrar,
    nameServers: d.nameServers ?? [],
    registrant: {
      name: `${r.nameFirst} ${r.nameLast}`.trim(),
      ...(r.organization ? { organization: r.organization } : {}),
      email: r.email,
      country: r.addressMailing.country,
    },
  };
}

function compactRecord(r: DnsRecord) {
  return {
    type: r.type,
    name: r.name,
    data: r.data,
    ...(r.ttl === undefined ? {} : { ttl: r.ttl }),
    ...(r.priority === undefined ? {} : { priority: r.priority }),
    ...(r.port === undefined ? {} : { port: r.port }),
    ...(r.weight === undefined ? {} : { weight: r.weight }),
    ...(r.protocol === undefined ? {} : { protocol: r.protocol }),
    ...(r.service === undefined ? {} : { service: r.service }),
  };
}

function describeRecord(r: {
  type: string;
  name?: string;
  data: string;
  ttl?: number;
  priority?: number | undefined;
}): string {
  const name = r.name === undefined ? '' : ` ${r.name}`;
  const priority = r.priority === undefined ? '' : ` priority ${r.priority}`;
  return `${r.type}${name} → ${JSON.stringify(r.data)}${priority} (TTL ${r.ttl ?? 3600} s)`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

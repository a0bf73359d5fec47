import { z } from 'zod';

/** GoDaddy Domains API v1 bodies as documented (docs/research/godaddy.md). */

// CAA is not in the published enum but GoDaddy zones hold it; a read must not fail on one.
export const dnsRecordType = z.enum(['A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'SOA', 'SRV', 'TXT']);

export const dnsRecord = z.looseObject({
  type: dnsRecordType,
  name: z.string(),
  data: z.string(),
  ttl: z.number().int().optional(),
  priority: z.number().int().optional(),
  port: z.number().int().optional(),
  weight: z.number().int().optional(),
  protocol: z.string().optional(),
  service: z.string().optional(),
});
export type DnsRecord = z.infer<typeof dnsRecord>;

const contact = z.looseObject({
  nameFirst: z.string(),
  nameLast: z.string(),
  email: z.string(),
  phone: z.string(),
  organization: z.string().optional(),
  addressMailing: z.looseObject({
    address1: z.string(),
    city: z.string(),
    state: z.string(),
    postalCode: z.string(),
    country: z.string(),
  }),
});

export const domainSummary = z.looseObject({
  domainId: z.number(),
  domain: z.string(),
  status: z.string(),
  createdAt: z.string(),
  expires: z.string().optional(),
  renewAuto: z.boolean(),
  renewDeadline: z.string(),
  locked: z.boolean(),
  privacy: z.boolean(),
  expirationProtected: z.boolean(),
  holdRegistrar: z.boolean(),
  transferProtected: z.boolean(),
  nameServers: z.array(z.string()).nullish(),
});
export type DomainSummary = z.infer<typeof domainSummary>;

/** What the API sends for one domain. `authCode` is in it; the connector drops it on arrival. */
export const domainDetail = domainSummary.extend({
  authCode: z.string().optional(),
  contactRegistrant: contact,
  contactAdmin: contact.optional(),
  contactBilling: contact.optional(),
  contactTech: contact.optional(),
});
export type DomainDetail = z.infer<typeof domainDetail>;

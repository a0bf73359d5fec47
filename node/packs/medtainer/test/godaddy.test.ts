import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiClient, OutboundLimiter } from '@brainmesh/node/kit';
import { callTool, type FakeService, quietLogger, serveFake } from '@brainmesh/node/kit/testing';
import { GoDaddyApi, RECORD_PAGE_LIMIT } from '../src/godaddy/client.js';
import { GODADDY_LIMIT, goDaddyPolicy } from '../src/godaddy/policy.js';
import { goDaddyTools } from '../src/godaddy/tools.js';
import type { DnsRecord, DomainDetail } from '../src/godaddy/wire.js';
import { emptyBusiness, type SampleBusiness } from '../src/sample/business.js';
import { goDaddyEmulator, SAMPLE_AUTH_CODE } from '../src/sample/godaddy.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const CREDS = { key: 'test-key', secret: 'test-secret' };
const AUTH = 'sso-key test-key:test-secret';
const accept = () => ({ action: 'accept' as const, content: { confirm: true } });
const decline = () => ({ action: 'decline' as const });

function contact(i: number) {
  return {
    nameFirst: 'Dana',
    nameLast: `Owner${i}`,
    email: `owner${i}@example.com`,
    phone: '+1.4805551234',
    organization: 'MedTainer LLC',
    addressMailing: { address1: '1 Main St', city: 'Tempe', state: 'AZ', postalCode: '85281', country: 'US' },
  };
}

/** Domain i: names sort in i order, so the pages are predictable. */
function domainAt(i: number): DomainDetail {
  const created = new Date(NOW.getTime() - (400 + i) * 86_400_000);
  const expires = new Date(NOW.getTime() + ((i * 7) % 700) * 86_400_000);
  return {
    domainId: 1_000_000 + i,
    domain: `clinic-${String(i).padStart(4, '0')}.com`,
    status: i % 50 === 0 ? 'CANCELLED' : 'ACTIVE',
    createdAt: created.toISOString(),
    expires: expires.toISOString(),
    renewDeadline: new Date(expires.getTime() + 45 * 86_400_000).toISOString(),
    renewAuto: i % 3 !== 0,
    locked: true,
    privacy: false,
    expirationProtected: false,
    holdRegistrar: false,
    transferProtected: false,
    nameServers: ['ns01.domaincontrol.com', 'ns02.domaincontrol.com'],
    authCode: `SECRET-TRANSFER-${i}`,
    contactRegistrant: contact(i),
  };
}

function business(domains: number): SampleBusiness {
  const b = emptyBusiness(NOW);
  for (let i = 0; i < domains; i++) b.godaddy.domains.push(domainAt(i));
  b.godaddy.records.set('clinic-0001.com', [
    { type: 'A', name: '@', data: '192.0.2.10', ttl: 600 },
    { type: 'A', name: 'www', data: '192.0.2.11', ttl: 600 },
    { type: 'MX', name: '@', data: 'mail.clinic-0001.com', ttl: 3600, priority: 10 },
    { type: 'TXT', name: '@', data: 'v=spf1 -all', ttl: 3600 },
  ]);
  return b;
}

const fakes: FakeService[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function setup(options: { domains?: number; shopperId?: string; mode?: 'live' | 'sample' } = {}) {
  const b = business(options.domains ?? 3);
  const fake = await serveFake(goDaddyEmulator(b, CREDS));
  fakes.push(fake);
  const client = new ApiClient({
    policy: goDaddyPolicy,
    baseUrl: fake.url,
    auth: () => ({ authorization: AUTH }),
    limiter: new OutboundLimiter(GODADDY_LIMIT),
    logger: quietLogger,
  });
  const api = new GoDaddyApi(client, options.shopperId);
  return { business: b, fake, api, tools: goDaddyTools({ api, mode: options.mode ?? 'live' }) };
}

function assertAuth(fake: FakeService) {
  assert.ok(fake.requests.length > 0);
  for (const r of fake.requests) assert.equal(r.headers.get('authorization'), AUTH);
}

describe('godaddy tools against the emulated API on loopback', () => {
  it('has the eight tools, writes marked destructive with a confirm argument', async () => {
    const { tools } = await setup();
    assert.deepEqual(
      tools.map((t) => t.name),
      [
        'godaddy.list_domains',
        'godaddy.get_domain',
        'godaddy.check_availability',
        'godaddy.suggest_domains',
        'godaddy.get_dns_records',
        'godaddy.add_dns_records',
        'godaddy.replace_dns_records',
        'godaddy.update_domain',
      ],
    );
    for (const t of tools) {
      const write = ['godaddy.add_dns_records', 'godaddy.replace_dns_records', 'godaddy.update_domain'].includes(
        t.name,
      );
      assert.equal(t.annotations?.readOnlyHint, !write, t.name);
      assert.equal(t.annotations?.openWorldHint, true, t.name);
      if (write) {
        assert.equal(t.annotations?.destructiveHint, true, t.name);
        assert.ok('confirm' in t.input.shape, t.name);
      }
    }
  });

  it('list_domains reads all 2,350 domains in pages of 1,000, each after the last one seen', async () => {
    const { fake, tools } = await setup({ domains: 2350, shopperId: 'shopper-42', mode: 'sample' });
    const called = await callTool(tools, 'godaddy.list_domains', { max_results: 5000 });
    const pages = fake.received('GET', '/v1/domains');
    assert.deepEqual(
      pages.map((r) => [r.query.get('limit'), r.query.get('marker')]),
      [
        ['1000', null],
        ['1000', 'clinic-0999.com'],
        ['1000', 'clinic-1999.com'],
      ],
    );
    assertAuth(fake);
    for (const r of fake.requests) assert.equal(r.headers.get('x-shopper-id'), 'shopper-42');
    assert.equal(called.source, 'sample');
    assert.equal(called.json.source, 'sample');
    assert.equal(called.json.count, 2350);
    const domains = called.json.domains as { domain: string; renewAuto: boolean }[];
    assert.equal(new Set(domains.map((d) => d.domain)).size, 2350);
    assert.equal(domains[0]?.domain, 'clinic-0000.com');
    assert.equal(domains.at(-1)?.domain, 'clinic-2349.com');
    assert.doesNotMatch(called.text, /authCode|SECRET-TRANSFER/);
  });

  it('list_domains filters by status and expiry, and caps what it shows', async () => {
    const { fake, tools } = await setup({ domains: 120 });
    const cancelled = await callTool(tools, 'godaddy.list_domains', { statuses: ['CANCELLED'] });
    assert.equal(fake.requests[0]?.query.get('statuses'), 'CANCELLED');
    assert.deepEqual(
      (cancelled.json.domains as { domain: string }[]).map((d) => d.domain),
      ['clinic-0000.com', 'clinic-0050.com', 'clinic-0100.com'],
    );
    const capped = await callTool(tools, 'godaddy.list_domains', { max_results: 10 });
    assert.equal(capped.json.count, 120);
    assert.equal(capped.json.truncated, true);
    assert.equal((capped.json.domains as unknown[]).length, 10);
    const soon = await callTool(tools, 'godaddy.list_domains', { expiring_within_days: 30 });
    for (const d of soon.json.domains as { expires: string }[]) {
      assert.ok(Date.parse(d.expires) <= Date.now() + 30 * 86_400_000);
      assert.ok(Date.parse(d.expires) > Date.now());
    }
  });

  it('list_domains expiring_within_days leaves out what has already expired, and names it apart', async () => {
    const { business: b, tools } = await setup({ domains: 4 });
    const day = 86_400_000;
    const at = (days: number) => new Date(Date.now() + days * day).toISOString();
    const [lapsed, soon, later, longAgo] = b.godaddy.domains;
    assert.ok(lapsed && soon && later && longAgo);
    lapsed.expires = at(-3);
    soon.expires = at(5);
    later.expires = at(100);
    longAgo.expires = at(-400);

    const called = await callTool(tools, 'godaddy.list_domains', { expiring_within_days: 30 });
    assert.equal(called.json.count, 1);
    assert.deepEqual(
      (called.json.domains as { domain: string }[]).map((d) => d.domain),
      ['clinic-0001.com'],
    );
    const expired = called.json.alreadyExpired as { count: number; domains: { domain: string; expires: string }[] };
    assert.equal(expired.count, 2);
    assert.deepEqual(
      expired.domains.map((d) => d.domain),
      ['clinic-0000.com', 'clinic-0003.com'],
    );
    for (const d of expired.domains) assert.ok(Date.parse(d.expires) <= Date.now());

    // A window of 0 days is only what lapses today, never what lapsed before.
    const today = await callTool(tools, 'godaddy.list_domains', { expiring_within_days: 0 });
    assert.equal(today.json.count, 0);
    assert.equal((today.json.alreadyExpired as { count: number }).count, 2);

    // Without the filter every domain is listed, expired or not, and nothing is set apart.
    const all = await callTool(tools, 'godaddy.list_domains', {});
    assert.equal(all.json.count, 4);
    assert.equal('alreadyExpired' in all.json, false);
  });

  it('waits out a 429 (retryAfterSec) on a read and answers in full', async () => {
    const { fake, tools } = await setup({ domains: 1500 });
    fake.script({
      method: 'GET',
      path: '/v1/domains',
      times: 1,
      answer: {
        status: 429,
        body: { code: 'TOO_MANY_REQUESTS', message: 'Too many requests received within interval', retryAfterSec: 1 },
      },
    });
    const called = await callTool(tools, 'godaddy.list_domains', { max_results: 5000 });
    assert.equal(called.json.count, 1500);
    // The refused first page, then both pages.
    assert.equal(fake.received('GET', '/v1/domains').length, 3);
  });

  it('get_domain never lets the transfer code out', async () => {
    const { fake, tools, api } = await setup();
    const called = await callTool(tools, 'godaddy.get_domain', { domain: 'Clinic-0002.COM' });
    assert.equal(fake.requests[0]?.method, 'GET');
    assert.equal(fake.requests[0]?.path, '/v1/domains/clinic-0002.com');
    assertAuth(fake);
    const domain = called.json.domain as Record<string, unknown>;
    assert.equal(domain.domain, 'clinic-0002.com');
    assert.deepEqual(domain.nameServers, ['ns01.domaincontrol.com', 'ns02.domaincontrol.com']);
    assert.deepEqual(domain.registrant, {
      name: 'Dana Owner2',
      organization: 'MedTainer LLC',
      email: 'owner2@example.com',
      country: 'US',
    });
    assert.doesNotMatch(called.text, /authCode|SECRET-TRANSFER/);
    assert.doesNotMatch(JSON.stringify(called.result), /authCode|SECRET-TRANSFER/);
    // The client's own answer has dropped it too, not only the tool's view of it.
    assert.equal('authCode' in (await api.getDomain('clinic-0002.com')), false);
  });

  it('get_domain drops the emulator’s dummy code, and a missing domain is NOT_FOUND', async () => {
    const { business: b, tools } = await setup();
    delete b.godaddy.domains[0]?.authCode;
    const called = await callTool(tools, 'godaddy.get_domain', { domain: 'clinic-0000.com' });
    assert.ok(!called.text.includes(SAMPLE_AUTH_CODE));
    await assert.rejects(callTool(tools, 'godaddy.get_domain', { domain: 'nowhere.com' }), (err: Error) => {
      assert.match(err.message, /GoDaddy answered 404: NOT_FOUND/);
      return true;
    });
  });

  it('check_availability reports prices in currency units', async () => {
    const { fake, tools } = await setup();
    const free = await callTool(tools, 'godaddy.check_availability', {
      domain: 'mobile-vet-care.com',
      check_type: 'FULL',
    });
    const sent = fake.requests[0];
    assert.equal(sent?.path, '/v1/domains/available');
    assert.equal(sent?.query.get('domain'), 'mobile-vet-care.com');
    assert.equal(sent?.query.get('checkType'), 'FULL');
    assert.equal(sent?.query.get('forTransfer'), 'false');
    assertAuth(fake);
    assert.equal(free.json.available, true);
    assert.equal(free.json.definitive, true);
    assert.equal(free.json.price, 11.99);
    assert.equal(free.json.currency, 'USD');
    assert.equal(free.json.period, 1);
    const health = await callTool(tools, 'godaddy.check_availability', { domain: 'mobile-vet-care.health' });
    assert.equal(health.json.price, 79.99);
    const taken = await callTool(tools, 'godaddy.check_availability', { domain: 'google.com' });
    assert.equal(taken.json.available, false);
    const owned = await callTool(tools, 'godaddy.check_availability', { domain: 'clinic-0001.com' });
    assert.equal(owned.json.available, false);
  });

  it('suggest_domains sends the query, limit and TLDs', async () => {
    const { fake, tools } = await setup();
    const called = await callTool(tools, 'godaddy.suggest_domains', {
      query: 'mobile vet',
      limit: 5,
      tlds: ['com', 'health'],
    });
    const sent = fake.requests[0];
    assert.equal(sent?.path, '/v1/domains/suggest');
    assert.equal(sent?.query.get('query'), 'mobile vet');
    assert.equal(sent?.query.get('limit'), '5');
    assert.equal(sent?.query.get('tlds'), 'com,health');
    assertAuth(fake);
    const domains = called.json.domains as string[];
    assert.equal(domains.length, 5);
    for (const d of domains) assert.match(d, /\.(com|health)$/);
  });

  it('get_dns_records uses all three GET forms', async () => {
    const { fake, tools } = await setup();
    const all = await callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0001.com' });
    assert.equal(all.json.count, 4);
    const a = await callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0001.com', type: 'A' });
    assert.equal(a.json.count, 2);
    const www = await callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0001.com', type: 'A', name: 'www' });
    assert.deepEqual(www.json.records, [{ type: 'A', name: 'www', data: '192.0.2.11', ttl: 600 }]);
    const apex = await callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0001.com', name: '@' });
    assert.equal(apex.json.count, 3);
    assert.deepEqual(
      fake.requests.map((r) => `${r.method} ${r.path}`),
      [
        'GET /v1/domains/clinic-0001.com/records',
        'GET /v1/domains/clinic-0001.com/records/A',
        'GET /v1/domains/clinic-0001.com/records/A/www',
        'GET /v1/domains/clinic-0001.com/records',
      ],
    );
    assertAuth(fake);
  });

  it('get_dns_records reads a zone of 1,234 records whole, 500 at a time by offset', async () => {
    const { fake, tools, business: b } = await setup();
    const zone: DnsRecord[] = [];
    for (let i = 0; i < 1234; i++)
      zone.push(
        i % 2 === 0
          ? { type: 'TXT', name: `host-${i}`, data: `v=${i}`, ttl: 600 }
          : { type: 'A', name: `host-${i}`, data: `192.0.${i >> 8}.${i & 255}`, ttl: 600 },
      );
    b.godaddy.records.set('clinic-0002.com', zone);
    assert.equal(RECORD_PAGE_LIMIT, 500);

    const all = await callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0002.com' });
    assert.equal(all.json.count, 1234);
    const records = all.json.records as { name: string; data: string }[];
    assert.deepEqual(
      records.map((r) => r.name),
      zone.map((r) => r.name),
    );
    const pages = fake.received('GET', '/v1/domains/clinic-0002.com/records');
    assert.deepEqual(
      pages.map((r) => [r.query.get('offset'), r.query.get('limit')]),
      [
        ['0', '500'],
        ['500', '500'],
        ['1000', '500'],
      ],
    );

    // The typed form pages the same way: 617 TXT records are two pages.
    const txt = await callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0002.com', type: 'TXT' });
    assert.equal(txt.json.count, 617);
    assert.deepEqual(
      fake.received('GET', '/v1/domains/clinic-0002.com/records/TXT').map((r) => r.query.get('offset')),
      ['0', '500'],
    );
    // A name alone is filtered after every page is read.
    const one = await callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0002.com', name: 'host-1233' });
    assert.deepEqual(one.json.records, [{ type: 'A', name: 'host-1233', data: '192.0.4.209', ttl: 600 }]);
    assertAuth(fake);
  });

  it('get_dns_records refuses to loop on a server that ignores the offset', async () => {
    const { fake, tools } = await setup();
    const same = Array.from({ length: 500 }, (_, i) => ({ type: 'TXT', name: `n${i}`, data: 'x' }));
    fake.script({
      method: 'GET',
      path: '/v1/domains/clinic-0001.com/records',
      times: 10,
      answer: { status: 200, body: same },
    });
    await assert.rejects(callTool(tools, 'godaddy.get_dns_records', { domain: 'clinic-0001.com' }), (err: Error) => {
      assert.match(err.message, /GoDaddy sent an answer brainmesh cannot read: .*repeated a page/);
      return true;
    });
    assert.equal(fake.received('GET', '/v1/domains/clinic-0001.com/records').length, 2);
  });

  it('add_dns_records and replace_dns_records refuse NS records and point to update_domain', async () => {
    const { fake, tools, business: b } = await setup();
    const before = structuredClone(b.godaddy.records.get('clinic-0001.com'));
    const added = await callTool(
      tools,
      'godaddy.add_dns_records',
      {
        domain: 'clinic-0001.com',
        records: [
          { type: 'A', name: 'api', data: '192.0.2.30' },
          { type: 'NS', name: '@', data: 'ns1.elsewhere.net' },
        ],
        confirm: true,
      },
      { elicit: accept },
    );
    assert.equal(added.result.isError, true);
    assert.match(added.text, /NS records/);
    assert.match(added.text, /godaddy\.update_domain/);
    assert.equal(added.asked.length, 0);

    const replaced = await callTool(
      tools,
      'godaddy.replace_dns_records',
      {
        domain: 'clinic-0001.com',
        type: 'NS',
        name: '@',
        records: [{ data: 'ns1.elsewhere.net' }, { data: 'ns2.elsewhere.net' }],
        confirm: true,
      },
      { elicit: accept },
    );
    assert.equal(replaced.result.isError, true);
    assert.match(replaced.text, /godaddy\.update_domain/);
    assert.match(replaced.text, /delegation/);
    assert.equal(replaced.asked.length, 0);

    // Nothing was asked, sent or changed.
    assert.equal(fake.requests.length, 0);
    assert.deepEqual(b.godaddy.records.get('clinic-0001.com'), before);
  });

  it('add_dns_records asks first, then sends one PATCH', async () => {
    const { fake, tools, business: b } = await setup();
    const args = {
      domain: 'clinic-0001.com',
      records: [{ type: 'TXT', name: '_acme-challenge', data: 'token123', ttl: 600 }],
    };
    const refused = await callTool(tools, 'godaddy.add_dns_records', args);
    assert.equal(refused.result.isError, true);
    assert.match(refused.text, /confirm: true/);
    assert.equal(fake.requests.length, 0);

    const declined = await callTool(tools, 'godaddy.add_dns_records', { ...args, confirm: true }, { elicit: decline });
    assert.equal(declined.result.isError, true);
    assert.equal(declined.asked.length, 1);
    assert.match(declined.asked[0] ?? '', /add 1 DNS record to clinic-0001\.com: TXT _acme-challenge/);
    assert.equal(fake.requests.length, 0);

    const done = await callTool(tools, 'godaddy.add_dns_records', { ...args, confirm: true });
    assert.equal(done.result.isError, undefined);
    assert.equal(done.json.done, true);
    const [sent] = fake.received('PATCH', '/v1/domains/clinic-0001.com/records');
    assert.deepEqual(sent?.body, [{ type: 'TXT', name: '_acme-challenge', data: 'token123', ttl: 600 }]);
    assert.equal(sent?.headers.get('authorization'), AUTH);
    assert.equal(b.godaddy.records.get('clinic-0001.com')?.length, 5);

    const viaElicit = await callTool(
      tools,
      'godaddy.add_dns_records',
      { domain: 'clinic-0001.com', records: [{ type: 'CNAME', name: 'shop', data: 'shops.myshopify.com' }] },
      { elicit: accept },
    );
    assert.equal(viaElicit.json.done, true);
    assert.equal(fake.received('PATCH', '/v1/domains/clinic-0001.com/records').length, 2);
    assert.equal(b.godaddy.records.get('clinic-0001.com')?.at(-1)?.ttl, 3600);

    // An exact duplicate is refused by GoDaddy, and the tool passes its words on.
    await assert.rejects(callTool(tools, 'godaddy.add_dns_records', { ...args, confirm: true }), /DUPLICATE_RECORD/);
  });

  it('add_dns_records checks records before anything is sent', async () => {
    const { tools } = await setup();
    const bad = [
      { type: 'TXT', name: 'x', data: 'y', ttl: 300 },
      { type: 'A', name: 'www', data: 'not-an-ip' },
      { type: 'MX', name: '@', data: 'mail.example.com' },
      { type: 'SOA', name: '@', data: 'x' },
      { type: 'CAA', name: '@', data: 'x' },
    ];
    for (const record of bad)
      await assert.rejects(
        callTool(tools, 'godaddy.add_dns_records', { domain: 'clinic-0001.com', records: [record], confirm: true }),
        /invalid arguments/,
      );
    await assert.rejects(callTool(tools, 'godaddy.get_domain', { domain: 'not a domain' }), /invalid arguments/);
  });

  it('add_dns_records is sent once on a 500 and says it was not retried', async () => {
    const { fake, tools } = await setup();
    fake.script({
      method: 'PATCH',
      path: '/v1/domains/clinic-0001.com/records',
      times: 5,
      answer: { status: 500, body: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } },
    });
    await assert.rejects(
      callTool(tools, 'godaddy.add_dns_records', {
        domain: 'clinic-0001.com',
        records: [{ type: 'A', name: 'api', data: '192.0.2.30' }],
        confirm: true,
      }),
      (err: Error) => {
        assert.match(err.message, /GoDaddy answered 500/);
        assert.match(err.message, /sent once and not retried/);
        return true;
      },
    );
    assert.equal(fake.received('PATCH', '/v1/domains/clinic-0001.com/records').length, 1);
  });

  it('replace_dns_records PUTs the values for one type and name', async () => {
    const { fake, tools, business: b } = await setup();
    const args = {
      domain: 'clinic-0001.com',
      type: 'A',
      name: 'www',
      records: [
        { data: '192.0.2.20', ttl: 600 },
        { data: '192.0.2.21', ttl: 600 },
      ],
    };
    const refused = await callTool(tools, 'godaddy.replace_dns_records', args);
    assert.equal(refused.result.isError, true);
    const declined = await callTool(
      tools,
      'godaddy.replace_dns_records',
      { ...args, confirm: true },
      { elicit: decline },
    );
    assert.equal(declined.result.isError, true);
    assert.match(declined.asked[0] ?? '', /replace every A record named www on clinic-0001\.com/);
    assert.equal(fake.requests.length, 0);

    const done = await callTool(tools, 'godaddy.replace_dns_records', args, { elicit: accept });
    assert.equal(done.json.done, true);
    const [sent] = fake.received('PUT', '/v1/domains/clinic-0001.com/records/A/www');
    assert.deepEqual(sent?.body, args.records);
    assert.equal(sent?.headers.get('authorization'), AUTH);
    const www = b.godaddy.records.get('clinic-0001.com')?.filter((r) => r.name === 'www');
    assert.deepEqual(
      www?.map((r) => r.data),
      ['192.0.2.20', '192.0.2.21'],
    );
    await callTool(tools, 'godaddy.replace_dns_records', {
      ...args,
      name: '@',
      records: [{ data: '192.0.2.1' }],
      confirm: true,
    });
    assert.equal(fake.received('PUT', '/v1/domains/clinic-0001.com/records/A/@').length, 1);
  });

  it('update_domain PATCHes only what changes', async () => {
    const { fake, tools, business: b, api } = await setup();
    const args = { domain: 'clinic-0001.com', renew_auto: false, name_servers: ['ns1.example.net', 'ns2.example.net'] };
    const refused = await callTool(tools, 'godaddy.update_domain', args);
    assert.equal(refused.result.isError, true);
    assert.match(
      refused.text,
      /change clinic-0001\.com: set name servers to ns1\.example\.net, ns2\.example\.net, turn auto-renew off/,
    );
    const declined = await callTool(tools, 'godaddy.update_domain', { ...args, confirm: true }, { elicit: decline });
    assert.equal(declined.result.isError, true);
    assert.equal(fake.requests.length, 0);

    const done = await callTool(tools, 'godaddy.update_domain', { ...args, confirm: true });
    assert.equal(done.json.done, true);
    const [sent] = fake.received('PATCH', '/v1/domains/clinic-0001.com');
    assert.deepEqual(sent?.body, { nameServers: ['ns1.example.net', 'ns2.example.net'], renewAuto: false });
    assert.equal(sent?.headers.get('authorization'), AUTH);
    assert.equal(b.godaddy.domains[1]?.renewAuto, false);

    await callTool(tools, 'godaddy.update_domain', { domain: 'clinic-0001.com', locked: false }, { elicit: accept });
    assert.equal(b.godaddy.domains[1]?.locked, false);

    await assert.rejects(
      callTool(tools, 'godaddy.update_domain', {
        domain: 'clinic-0001.com',
        name_servers: ['ns1.example.net'],
        confirm: true,
      }),
      /invalid arguments/,
    );
    // GoDaddy's own refusal, should a single name server get past the tool.
    await assert.rejects(api.updateDomain('clinic-0001.com', { nameServers: ['ns1.example.net'] }), /At least two/);
  });
});

describe('godaddy emulator', () => {
  const get = (path: string, query = '', auth = AUTH) => ({
    method: 'GET',
    path,
    query: new URLSearchParams(query),
    headers: new Headers({ authorization: auth }),
    body: undefined,
  });

  it('refuses a wrong key as GoDaddy does', async () => {
    const emulator = goDaddyEmulator(business(1), CREDS);
    const answer = await emulator.handle(get('/v1/domains', '', 'sso-key test-key:wrong'));
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.body, {
      code: 'UNABLE_TO_AUTHENTICATE',
      message: 'Unauthorized : Could not authenticate API key/secret',
    });
  });

  it('refuses a limit over 1,000 and sends no transfer code in lists', async () => {
    const emulator = goDaddyEmulator(business(2), CREDS);
    assert.equal((await emulator.handle(get('/v1/domains', 'limit=1001'))).status, 422);
    const list = await emulator.handle(get('/v1/domains', 'limit=10'));
    assert.doesNotMatch(JSON.stringify(list.body), /authCode/);
    const one = await emulator.handle(get('/v1/domains/clinic-0000.com'));
    assert.equal((one.body as { authCode: string }).authCode, 'SECRET-TRANSFER-0');
  });

  it('allows 60 requests a minute per endpoint, then answers 429 with retryAfterSec', async () => {
    let now = 1_000_000;
    const emulator = goDaddyEmulator(business(1), CREDS, { now: () => now });
    for (let i = 0; i < 60; i++) assert.equal((await emulator.handle(get('/v1/domains'))).status, 200);
    now += 15_000;
    const limited = await emulator.handle(get('/v1/domains'));
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body, {
      code: 'TOO_MANY_REQUESTS',
      message: 'Too many requests received within interval',
      retryAfterSec: 45,
    });
    // Another endpoint has its own count.
    assert.equal((await emulator.handle(get('/v1/domains/clinic-0000.com'))).status, 200);
    now += 45_000;
    assert.equal((await emulator.handle(get('/v1/domains'))).status, 200);
  });

  it('never answers 429 when rate limits are off (sample mode)', async () => {
    const emulator = goDaddyEmulator(business(1), CREDS, { now: () => 1_000_000, rateLimits: false });
    for (let i = 0; i < 200; i++) assert.equal((await emulator.handle(get('/v1/domains'))).status, 200);
    // Auth is still checked.
    assert.equal((await emulator.handle(get('/v1/domains', '', 'sso-key test-key:wrong'))).status, 401);
  });

  it('honours offset and limit on all three record GET forms', async () => {
    const b = business(1);
    const zone: DnsRecord[] = [];
    for (let i = 0; i < 30; i++)
      zone.push({ type: i % 3 === 0 ? 'A' : 'TXT', name: i < 6 ? '@' : `h${i}`, data: `d${i}` });
    b.godaddy.records.set('clinic-0000.com', zone);
    const emulator = goDaddyEmulator(b, CREDS);
    const data = async (path: string, query: string) => {
      const answer = await emulator.handle(get(path, query));
      assert.equal(answer.status, 200, `${path}?${query}`);
      return (answer.body as DnsRecord[]).map((r) => r.data);
    };
    const base = '/v1/domains/clinic-0000.com/records';
    assert.equal((await data(base, '')).length, 30);
    assert.deepEqual(await data(base, 'offset=10&limit=3'), ['d10', 'd11', 'd12']);
    assert.deepEqual(await data(base, 'offset=28&limit=5'), ['d28', 'd29']);
    assert.deepEqual(await data(base, 'offset=30&limit=5'), []);
    assert.deepEqual(await data(`${base}/A`, 'offset=2&limit=2'), ['d6', 'd9']);
    assert.deepEqual(await data(`${base}/TXT/@`, 'offset=1&limit=2'), ['d2', 'd4']);
    assert.deepEqual(await data(`${base}/TXT/@`, 'limit=1'), ['d1']);
    assert.equal((await emulator.handle(get(base, 'offset=-1'))).status, 422);
    assert.equal((await emulator.handle(get(base, 'limit=0'))).status, 422);
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import type { ToolDefinition } from '@brainmesh/node';
import { ApiClient, OutboundLimiter, SAMPLE_ORIGIN } from '@brainmesh/node/kit';
import {
  type CallOptions,
  callTool,
  type FakeService,
  quietLogger,
  type RecordedRequest,
  serveFake,
} from '@brainmesh/node/kit/testing';
import type { CachedCopy, CachedKinds, GhlCache, SyncKind } from '../src/cache/cache.js';
import { GoHighLevelApi } from '../src/gohighlevel/client.js';
import { GOHIGHLEVEL_LIMIT, goHighLevelPolicy } from '../src/gohighlevel/policy.js';
import { goHighLevelTools } from '../src/gohighlevel/tools.js';
import { CONTACTS_VERSION, CONVERSATIONS_VERSION } from '../src/gohighlevel/wire.js';
import { emptyBusiness, type SampleBusiness } from '../src/sample/business.js';
import { type GoHighLevelEmulatorOptions, goHighLevelEmulator } from '../src/sample/gohighlevel.js';

const NOW = new Date('2025-06-02T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CREDS = { token: 'ghl-test-token-5f3a9c', locationId: 'sampleLocation0001' };
const CONTACTS = 1_150;
const OPPORTUNITIES = 230;
const CONVERSATIONS = 45;
const MESSAGES = 30;

const pad = (n: number) => String(n).padStart(5, '0');

/** Enough of everything that each list takes several pages. */
function business(): SampleBusiness {
  const b = emptyBusiness(NOW);
  const g = b.gohighlevel;
  const at = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
  for (let i = 0; i < CONTACTS; i++) {
    g.contacts.push({
      id: `ct${pad(i)}`,
      locationId: g.locationId,
      firstName: `First${i}`,
      lastName: `Last${i}`,
      email: `person${i}@example.com`,
      phone: `+1555${String(i).padStart(7, '0')}`,
      companyName: i % 10 === 0 ? 'Acme Clinic' : `Company ${i}`,
      tags: i % 3 === 0 ? ['lead', 'vip'] : ['lead'],
      type: 'lead',
      source: 'website',
      dateAdded: at(i * HOUR),
    });
  }
  g.pipelines.push({
    id: 'pl001',
    name: 'Sales',
    locationId: g.locationId,
    stages: [
      { id: 'st-new', name: 'New' },
      { id: 'st-proposal', name: 'Proposal' },
      { id: 'st-closing', name: 'Closing' },
    ],
  });
  for (let i = 0; i < OPPORTUNITIES; i++) {
    g.opportunities.push({
      id: `op${pad(i)}`,
      name: `Deal ${i}`,
      monetaryValue: 100 * i,
      pipelineId: 'pl001',
      pipelineStageId: i % 2 === 0 ? 'st-new' : 'st-proposal',
      status: i % 5 === 0 ? 'won' : 'open',
      contactId: `ct${pad(i)}`,
      locationId: g.locationId,
      createdAt: at(i * HOUR),
    });
  }
  for (let i = 0; i < CONVERSATIONS; i++) {
    g.conversations.push({
      id: `cv${pad(i)}`,
      contactId: `ct${pad(i)}`,
      locationId: g.locationId,
      lastMessageBody: `Message about order ${i}`,
      lastMessageType: 'TYPE_SMS',
      lastMessageDate: NOW.getTime() - i * 60_000,
      type: 'TYPE_PHONE',
      unreadCount: i % 2,
      fullName: `First${i} Last${i}`,
      phone: `+1555${String(i).padStart(7, '0')}`,
    });
  }
  g.messages.set(
    'cv00000',
    Array.from({ length: MESSAGES }, (_, i) => ({
      id: `ms${pad(i)}`,
      type: 2,
      messageType: 'TYPE_SMS',
      conversationId: 'cv00000',
      contactId: 'ct00000',
      dateAdded: at((MESSAGES - i) * 60_000),
      body: `message ${i}`,
      direction: i % 2 === 0 ? ('inbound' as const) : ('outbound' as const),
      status: 'delivered',
    })),
  );
  g.calendars.push({ id: 'cal-consult', name: 'Consultations' }, { id: 'cal-delivery', name: 'Deliveries' });
  // Appointments around the real clock, as the tool's default range is.
  const today = Date.now();
  const event = (id: string, calendarId: string, startMs: number) => ({
    id,
    title: `Appointment ${id}`,
    calendarId,
    contactId: 'ct00001',
    appointmentStatus: 'confirmed',
    startTime: new Date(startMs).toISOString(),
    endTime: new Date(startMs + HOUR).toISOString(),
  });
  g.events.push(
    event('ev-past', 'cal-consult', today - 3 * DAY),
    event('ev-soon', 'cal-delivery', today + DAY),
    event('ev-later', 'cal-consult', today + 5 * DAY),
    event('ev-far', 'cal-consult', today + 60 * DAY),
  );
  return b;
}

interface Setup {
  business: SampleBusiness;
  fake: FakeService;
  api: GoHighLevelApi;
  tools: ToolDefinition[];
  call(name: string, args: Record<string, unknown>, options?: CallOptions): ReturnType<typeof callTool>;
}

/** As connections.ts builds a live client, with a test server's address as the service's. */
function liveApi(url: string): GoHighLevelApi {
  const client = new ApiClient({
    policy: goHighLevelPolicy,
    baseUrl: url,
    auth: () => ({ authorization: `Bearer ${CREDS.token}` }),
    limiter: new OutboundLimiter(GOHIGHLEVEL_LIMIT),
    logger: quietLogger,
  });
  return new GoHighLevelApi(client, CREDS.locationId);
}

function callerOf(tools: ToolDefinition[]): Setup['call'] {
  return async (name, args, options) => {
    const called = await callTool(tools, `gohighlevel.${name}`, args, options);
    assert.ok(!called.text.includes(CREDS.token), 'an answer never carries the token');
    return called;
  };
}

async function setup(
  t: TestContext,
  options: { cache?: GhlCache | null; emulator?: GoHighLevelEmulatorOptions; business?: SampleBusiness } = {},
): Promise<Setup> {
  const b = options.business ?? business();
  const fake = await serveFake(goHighLevelEmulator(b, CREDS, options.emulator));
  t.after(() => fake.close());
  const api = liveApi(fake.url);
  const tools = goHighLevelTools({ api, mode: 'live', cache: options.cache ?? null });
  return { business: b, fake, api, tools, call: callerOf(tools) };
}

function assertSent(r: RecordedRequest | undefined, version: string): RecordedRequest {
  assert.ok(r, 'the request was sent');
  assert.equal(r.headers.get('authorization'), `Bearer ${CREDS.token}`);
  assert.equal(r.headers.get('version'), version);
  return r;
}

const stubCache = (copies: Partial<{ [K in SyncKind]: CachedCopy<CachedKinds[K]> }>): GhlCache => ({
  read: async <K extends SyncKind>(kind: K) => copies[kind] as CachedCopy<CachedKinds[K]> | undefined,
  remember: async () => {},
});

const TIED = 130;
const TIE = 7;
const tiedDate = (i: number) => NOW.getTime() - Math.floor(i / TIE) * 60_000;

/** Conversations in groups of 7 sharing a last-message time: a group straddles every page boundary. */
function tiedBusiness(): SampleBusiness {
  const b = business();
  const g = b.gohighlevel;
  g.conversations.length = 0;
  for (let i = 0; i < TIED; i++) {
    g.conversations.push({
      id: `cv${pad(i)}`,
      contactId: `ct${pad(i)}`,
      locationId: g.locationId,
      lastMessageBody: `Tied ${i}`,
      lastMessageType: 'TYPE_SMS',
      lastMessageDate: tiedDate(i),
      unreadCount: 0,
      fullName: `First${i} Last${i}`,
    });
  }
  return b;
}

/** Conversations in groups, each group sharing one last-message time, newest group first. */
function groupedBusiness(sizes: number[]): SampleBusiness {
  const b = business();
  const g = b.gohighlevel;
  g.conversations.length = 0;
  let n = 0;
  sizes.forEach((size, group) => {
    for (let i = 0; i < size; i++, n++)
      g.conversations.push({
        id: `cv${pad(n)}`,
        contactId: `ct${pad(n)}`,
        lastMessageDate: NOW.getTime() - group * 60_000,
        unreadCount: 0,
      });
  });
  return b;
}

/** Every conversation search_conversations gives, page after page by `next`, in order. */
async function pageConversations(s: Setup, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: unknown;
  let pages = 0;
  do {
    const { json } = await s.call('search_conversations', { limit, ...(cursor ? { cursor } : {}) });
    for (const c of arr(json.conversations)) ids.push(c.id as string);
    cursor = json.next;
    assert.ok(++pages <= TIED, 'paging ends');
  } while (cursor !== undefined);
  return ids;
}

const writes = (fake: FakeService) => fake.requests.filter((r) => r.method !== 'GET');
const accept: CallOptions = { elicit: () => ({ action: 'accept', content: { confirm: true } }) };
const decline: CallOptions = { elicit: () => ({ action: 'decline' }) };
const arr = (v: unknown) => v as Record<string, unknown>[];

/** The service's own 429, with a short burst window so the wait is brief. */
const TOO_MANY = {
  status: 429,
  headers: {
    'X-RateLimit-Limit-Daily': '200000',
    'X-RateLimit-Daily-Remaining': '199000',
    'X-RateLimit-Interval-Milliseconds': '50',
    'X-RateLimit-Max': '100',
    'X-RateLimit-Remaining': '0',
  },
  body: { statusCode: 429, message: 'Too Many Requests' },
};
const SERVER_ERROR = { status: 500, body: { statusCode: 500, message: 'Internal server error' } };

describe('GoHighLevel contacts', () => {
  it('search_contacts sends the documented search, filters by text and tags, and pages to every contact', async (t) => {
    const s = await setup(t);
    const found = await s.call('search_contacts', { query: 'acme clinic', tags: ['VIP'], limit: 100 });
    const req = assertSent(s.fake.received('POST', '/contacts/search')[0], CONTACTS_VERSION);
    assert.deepEqual(req.body, {
      locationId: CREDS.locationId,
      pageLimit: 100,
      page: 1,
      // Newest first, as the cache sorts: page 2 is the same contacts cached or live.
      sort: [{ field: 'dateAdded', direction: 'desc' }],
      query: 'acme clinic',
      filters: [{ field: 'tags', operator: 'eq', value: 'vip' }],
    });
    // Every 10th is Acme's, every 3rd a VIP: every 30th of 1,150.
    assert.equal(found.json.total, Math.ceil(CONTACTS / 30));
    for (const c of arr(found.json.contacts)) {
      assert.equal(c.companyName, 'Acme Clinic');
      assert.ok((c.tags as string[]).includes('vip'));
    }

    const ids = new Set<string>();
    let page: unknown = 1;
    while (page !== undefined) {
      const { json } = await s.call('search_contacts', { limit: 100, page });
      for (const c of arr(json.contacts)) ids.add(c.id as string);
      page = json.next;
    }
    assert.equal(ids.size, CONTACTS);
  });

  it('allContacts reads every page of 500, and a 429 on a read is waited out and retried', async (t) => {
    const s = await setup(t);
    s.fake.script({ method: 'POST', path: '/contacts/search', times: 1, answer: TOO_MANY });
    const all = await s.api.allContacts();
    assert.equal(all.length, CONTACTS);
    assert.equal(new Set(all.map((c) => c.id)).size, CONTACTS);
    const sent = s.fake.received('POST', '/contacts/search');
    assert.deepEqual(
      sent.map((r) => [(r.body as { page: number }).page, (r.body as { pageLimit: number }).pageLimit]),
      [
        [1, 500],
        [1, 500],
        [2, 500],
        [3, 500],
      ],
      'the refused first page is asked again, then the rest',
    );
  });

  it('allContacts goes on by searchAfter past the 10,000 contacts that page numbers reach', async (t) => {
    const s = await setup(t);
    const contacts = s.business.gohighlevel.contacts;
    for (let i = contacts.length; i < 10_050; i++) {
      contacts.push({ id: `ct${pad(i)}`, tags: [], dateAdded: new Date(NOW.getTime() - i * 60_000).toISOString() });
    }
    const all = await s.api.allContacts();
    assert.equal(new Set(all.map((c) => c.id)).size, 10_050);
    const sent = s.fake.received('POST', '/contacts/search').map((r) => r.body as Record<string, unknown>);
    assert.equal(sent.length, 21);
    assert.equal(sent[19]?.page, 20);
    assert.equal(sent[20]?.page, undefined);
    assert.ok(Array.isArray(sent[20]?.searchAfter), 'the last page is asked for by cursor');
  });

  it('get_contact reads one contact, and an unknown id is a clear not-found', async (t) => {
    const s = await setup(t);
    const { json } = await s.call('get_contact', { contactId: 'ct00007' });
    assertSent(s.fake.received('GET', '/contacts/ct00007')[0], CONTACTS_VERSION);
    const contact = json.contact as Record<string, unknown>;
    assert.equal(contact.name, 'First7 Last7');
    assert.equal(contact.email, 'person7@example.com');
    assert.equal(json.source, 'live');
    await assert.rejects(s.call('get_contact', { contactId: 'nobody' }), {
      code: 'NOT_FOUND',
      message: /404.*not found/,
    });
  });

  it('create_contact upserts: twice with the same email is one contact, and tags are added, not replaced', async (t) => {
    const s = await setup(t);
    const first = await s.call('create_contact', {
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane@example.com',
      phone: '+15550109999',
      tags: ['Wholesale'],
      confirm: true,
    });
    assert.equal(first.json.new, true);
    const upsert = assertSent(s.fake.received('POST', '/contacts/upsert')[0], CONTACTS_VERSION);
    assert.deepEqual(upsert.body, {
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane@example.com',
      phone: '+15550109999',
      locationId: CREDS.locationId,
    });
    const id = (first.json.contact as { id: string }).id;
    assertSent(s.fake.received('POST', `/contacts/${id}/tags`)[0], CONTACTS_VERSION);

    const again = await s.call('create_contact', {
      firstName: 'Janet',
      email: 'JANE@example.com',
      companyName: 'Doe Dental',
      confirm: true,
    });
    assert.equal(again.json.new, false);
    assert.equal((again.json.contact as { id: string }).id, id);
    const janes = s.business.gohighlevel.contacts.filter((c) => c.email?.toLowerCase() === 'jane@example.com');
    assert.equal(janes.length, 1);
    assert.equal(janes[0]?.firstName, 'Janet');
    assert.equal(janes[0]?.companyName, 'Doe Dental');
    assert.deepEqual(janes[0]?.tags, ['wholesale']);
  });

  it('create_contact is refused without an email or phone, and without confirmation', async (t) => {
    const s = await setup(t);
    const none = await s.call('create_contact', { firstName: 'Nobody', confirm: true });
    assert.equal(none.result.isError, true);
    const unconfirmed = await s.call('create_contact', { email: 'x@example.com' });
    assert.equal(unconfirmed.result.isError, true);
    assert.match(unconfirmed.text, /confirm: true/);
    assert.equal(s.fake.requests.length, 0);
  });

  it('update_contact asks the user: declined sends nothing even with confirm: true, accepted sends the PUT', async (t) => {
    const s = await setup(t);
    const declined = await s.call('update_contact', { contactId: 'ct00003', city: 'Denver', confirm: true }, decline);
    assert.equal(declined.result.isError, true);
    assert.match(declined.asked[0] ?? '', /city of First3 Last3 \(person3@example\.com\)/);
    assert.equal(writes(s.fake).length, 0);

    const refused = await s.call('update_contact', { contactId: 'ct00003', city: 'Denver' });
    assert.equal(refused.result.isError, true);
    assert.equal(writes(s.fake).length, 0);

    const done = await s.call('update_contact', { contactId: 'ct00003', city: 'Denver', dnd: true }, accept);
    const put = assertSent(s.fake.received('PUT', '/contacts/ct00003')[0], CONTACTS_VERSION);
    assert.deepEqual(put.body, { city: 'Denver', dnd: true });
    assert.equal((done.json.contact as { city: string }).city, 'Denver');
    assert.equal(s.business.gohighlevel.contacts[3]?.dnd, true);
  });

  it('add_tags and remove_tags send the tags endpoint with a body', async (t) => {
    const s = await setup(t);
    const added = await s.call('add_tags', { contactId: 'ct00001', tags: ['reorder', 'lead'], confirm: true });
    const post = assertSent(s.fake.received('POST', '/contacts/ct00001/tags')[0], CONTACTS_VERSION);
    assert.deepEqual(post.body, { tags: ['reorder', 'lead'] });
    assert.deepEqual(added.json.tags, ['lead', 'reorder']);

    const removed = await s.call('remove_tags', { contactId: 'ct00001', tags: ['lead'] }, accept);
    const del = assertSent(s.fake.received('DELETE', '/contacts/ct00001/tags')[0], CONTACTS_VERSION);
    assert.deepEqual(del.body, { tags: ['lead'] });
    assert.deepEqual(removed.json.tags, ['reorder']);

    const unconfirmed = await s.call('remove_tags', { contactId: 'ct00001', tags: ['reorder'] });
    assert.equal(unconfirmed.result.isError, true);
    assert.equal(s.fake.received('DELETE', '/contacts/ct00001/tags').length, 1);
  });

  it('add_note adds a note, and one that meets a 500 is sent exactly once', async (t) => {
    const s = await setup(t);
    const { json } = await s.call('add_note', { contactId: 'ct00002', body: 'Asked for a quote', confirm: true });
    const post = assertSent(s.fake.received('POST', '/contacts/ct00002/notes')[0], CONTACTS_VERSION);
    assert.deepEqual(post.body, { body: 'Asked for a quote' });
    assert.equal((json.note as { contactId: string }).contactId, 'ct00002');
    assert.equal(s.business.gohighlevel.notes.length, 1);

    s.fake.script({ method: 'POST', path: '/contacts/ct00004/notes', times: 1, answer: SERVER_ERROR });
    await assert.rejects(s.call('add_note', { contactId: 'ct00004', body: 'Second thoughts', confirm: true }), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /sent once and not retried/,
    });
    assert.equal(s.fake.received('POST', '/contacts/ct00004/notes').length, 1);
  });

  it('create_task creates an open task due when asked', async (t) => {
    const s = await setup(t);
    const refused = await s.call('create_task', {
      contactId: 'ct00005',
      title: 'Call back',
      dueDate: '2025-06-05T15:00:00Z',
    });
    assert.equal(refused.result.isError, true);
    assert.equal(writes(s.fake).length, 0);

    const { json } = await s.call(
      'create_task',
      { contactId: 'ct00005', title: 'Call back', dueDate: '2025-06-05T15:00:00Z', body: 'About the reorder' },
      accept,
    );
    const post = assertSent(s.fake.received('POST', '/contacts/ct00005/tasks')[0], CONTACTS_VERSION);
    assert.deepEqual(post.body, {
      title: 'Call back',
      dueDate: '2025-06-05T15:00:00Z',
      body: 'About the reorder',
      completed: false,
    });
    assert.equal((json.task as { completed: boolean }).completed, false);
    assert.equal(s.business.gohighlevel.tasks.length, 1);
  });
});

describe('GoHighLevel writes sent once', () => {
  it('create_task that meets a 500 is sent exactly once and says it was not retried', async (t) => {
    const s = await setup(t);
    s.fake.script({ method: 'POST', path: '/contacts/ct00005/tasks', times: 1, answer: SERVER_ERROR });
    await assert.rejects(
      s.call('create_task', {
        contactId: 'ct00005',
        title: 'Call back',
        dueDate: '2025-06-05T15:00:00Z',
        confirm: true,
      }),
      { code: 'UPSTREAM_UNAVAILABLE', message: /500.*sent once and not retried/ },
    );
    // A retry would have reached the emulator and made the task.
    assert.equal(s.fake.received('POST', '/contacts/ct00005/tasks').length, 1);
    assert.equal(s.business.gohighlevel.tasks.length, 0);
  });

  it('send_message whose connection the server drops is received exactly once and says it was not retried', async (t) => {
    let sends = 0;
    const contact = {
      id: 'ct1',
      firstName: 'Ann',
      lastName: 'Lee',
      phone: '+15550100001',
      tags: [],
      dateAdded: NOW.toISOString(),
    };
    const server = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/conversations/messages') {
        sends++;
        req.socket.destroy();
        return;
      }
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/contacts/ct1') res.end(JSON.stringify({ contact }));
      else {
        res.statusCode = 404;
        res.end(JSON.stringify({ statusCode: 404, message: 'Not Found' }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = callerOf(goHighLevelTools({ api: liveApi(url), mode: 'live', cache: null }));
    await assert.rejects(call('send_message', { contactId: 'ct1', type: 'SMS', message: 'Hello', confirm: true }), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /could not be reached.*sent once and not retried/,
    });
    assert.equal(sends, 1);
  });
});

describe('GoHighLevel opportunities', () => {
  it('search_opportunities sends snake_case filters and pages by cursor to every opportunity', async (t) => {
    const s = await setup(t);
    const filtered = await s.call('search_opportunities', {
      pipelineId: 'pl001',
      stageId: 'st-new',
      status: 'won',
      contactId: 'ct00010',
      query: 'deal',
    });
    const req = assertSent(s.fake.received('GET', '/opportunities/search')[0], CONTACTS_VERSION);
    assert.deepEqual(Object.fromEntries(req.query), {
      location_id: CREDS.locationId,
      pipeline_id: 'pl001',
      pipeline_stage_id: 'st-new',
      contact_id: 'ct00010',
      status: 'won',
      q: 'deal',
      limit: '20',
    });
    assert.deepEqual(
      arr(filtered.json.opportunities).map((o) => [o.id, o.contactName]),
      [['op00010', 'First10 Last10']],
    );

    const ids = new Set<string>();
    let cursor: unknown;
    let calls = 0;
    do {
      const { json } = await s.call('search_opportunities', { limit: 100, ...(cursor ? { cursor } : {}) });
      calls++;
      assert.equal(json.total, OPPORTUNITIES);
      for (const o of arr(json.opportunities)) ids.add(o.id as string);
      cursor = json.next;
    } while (cursor !== undefined);
    assert.equal(ids.size, OPPORTUNITIES);
    assert.equal(calls, 3);
    const last = s.fake.received('GET', '/opportunities/search').at(-1);
    assert.ok(last?.query.get('startAfter') && last.query.get('startAfterId'), 'the cursor is sent as documented');

    const all = await s.api.allOpportunities({ status: 'open' });
    assert.equal(all.length, OPPORTUNITIES - OPPORTUNITIES / 5);
  });

  it('list_pipelines lists pipelines with their stages', async (t) => {
    const s = await setup(t);
    const { json } = await s.call('list_pipelines', {});
    const req = assertSent(s.fake.received('GET', '/opportunities/pipelines')[0], CONTACTS_VERSION);
    assert.equal(req.query.get('locationId'), CREDS.locationId);
    assert.deepEqual(json.pipelines, [
      {
        id: 'pl001',
        name: 'Sales',
        stages: [
          { id: 'st-new', name: 'New' },
          { id: 'st-proposal', name: 'Proposal' },
          { id: 'st-closing', name: 'Closing' },
        ],
      },
    ]);
  });

  it('update_opportunity moves a stage of its own pipeline, sets status and value, and names the deal', async (t) => {
    const s = await setup(t);
    s.business.gohighlevel.pipelines.push({
      id: 'pl002',
      name: 'Wholesale',
      stages: [{ id: 'st-w-new', name: 'Inquiry' }],
    });
    const unknown = await s.call('update_opportunity', { opportunityId: 'op00002', stageId: 'st-nope', confirm: true });
    assert.equal(unknown.result.isError, true);
    // A stage of another pipeline: refused before anything is asked or sent, naming the deal's pipeline.
    const other = await s.call('update_opportunity', { opportunityId: 'op00002', stageId: 'st-w-new' }, accept);
    assert.equal(other.result.isError, true);
    assert.match(other.text, /st-w-new is not a stage of the pipeline of "Deal 2", "Sales" \(pl001\)/);
    assert.match(other.text, /list_pipelines/);
    assert.equal(other.asked.length, 0);
    assertSent(s.fake.received('GET', '/opportunities/op00002')[0], CONTACTS_VERSION);
    const declined = await s.call('update_opportunity', { opportunityId: 'op00002', status: 'won' }, decline);
    assert.equal(declined.result.isError, true);
    assert.equal(writes(s.fake).length, 0, 'no PUT for a foreign stage or a declined change');

    const done = await s.call(
      'update_opportunity',
      { opportunityId: 'op00002', stageId: 'st-closing', status: 'won', monetaryValue: 1250 },
      accept,
    );
    assert.equal(
      done.asked[0],
      'Confirm: update the opportunity "Deal 2" (op00002), now at the stage "New" of "Sales" and open: ' +
        'move it to the stage "Closing", mark it won, set its value to 1250?',
    );
    const put = assertSent(s.fake.received('PUT', '/opportunities/op00002')[0], CONTACTS_VERSION);
    // The pipeline goes with the stage, as the service expects.
    assert.deepEqual(put.body, {
      pipelineId: 'pl001',
      pipelineStageId: 'st-closing',
      status: 'won',
      monetaryValue: 1250,
    });
    const opportunity = done.json.opportunity as Record<string, unknown>;
    assert.equal(opportunity.pipelineStageId, 'st-closing');
    assert.equal(opportunity.status, 'won');
    assert.equal(s.business.gohighlevel.opportunities[2]?.monetaryValue, 1250);
  });
});

describe('GoHighLevel conversations', () => {
  it('search_conversations filters and pages by the last message date to every conversation', async (t) => {
    const s = await setup(t);
    const unread = await s.call('search_conversations', { status: 'unread', query: 'order', limit: 100 });
    const req = assertSent(s.fake.received('GET', '/conversations/search')[0], CONVERSATIONS_VERSION);
    assert.equal(req.query.get('locationId'), CREDS.locationId);
    assert.equal(req.query.get('status'), 'unread');
    assert.equal(unread.json.total, Math.floor(CONVERSATIONS / 2));

    const ids = new Set<string>();
    let cursor: unknown;
    do {
      const { json } = await s.call('search_conversations', { limit: 20, ...(cursor ? { cursor } : {}) });
      for (const c of arr(json.conversations)) ids.add(c.id as string);
      cursor = json.next;
    } while (cursor !== undefined);
    assert.equal(ids.size, CONVERSATIONS);
    const startAfter = s.fake.received('GET', '/conversations/search').at(-1)?.query.get('startAfterDate');
    assert.equal(
      startAfter,
      String(NOW.getTime() - 39 * 60_000 + 1),
      'the last one seen gives the next start, included',
    );

    assert.equal((await s.api.allConversations()).length, CONVERSATIONS);
  });

  it('get_messages reads the nested shape and pages by lastMessageId, and reads the flat shape too', async (t) => {
    const s = await setup(t);
    const first = await s.call('get_messages', { conversationId: 'cv00000', limit: 20 });
    assertSent(s.fake.received('GET', '/conversations/cv00000/messages')[0], CONVERSATIONS_VERSION);
    assert.equal(first.json.count, 20);
    assert.equal(arr(first.json.messages)[0]?.body, `message ${MESSAGES - 1}`, 'newest first');
    assert.equal(first.json.next, 'ms00010');
    const second = await s.call('get_messages', { conversationId: 'cv00000', limit: 20, cursor: first.json.next });
    assert.equal(s.fake.received('GET', '/conversations/cv00000/messages')[1]?.query.get('lastMessageId'), 'ms00010');
    assert.equal(second.json.count, MESSAGES - 20);
    assert.equal(second.json.next, undefined);

    const message = s.business.gohighlevel.messages.get('cv00000')?.[0];
    s.fake.script({
      method: 'GET',
      path: '/conversations/cv00000/messages',
      times: 1,
      answer: { status: 200, body: { lastMessageId: 'ms00000', nextPage: true, messages: [message] } },
    });
    const flat = await s.call('get_messages', { conversationId: 'cv00000' });
    assert.deepEqual(
      arr(flat.json.messages).map((m) => m.id),
      ['ms00000'],
    );
    assert.equal(flat.json.next, 'ms00000');
  });

  it('send_message is confirmed first, sent once, and a 500 is not retried', async (t) => {
    const s = await setup(t);
    const sends = () => s.fake.received('POST', '/conversations/messages');
    const unconfirmed = await s.call('send_message', {
      contactId: 'ct00001',
      type: 'SMS',
      message: 'Your order shipped',
    });
    assert.equal(unconfirmed.result.isError, true);
    assert.match(unconfirmed.text, /send an SMS to First1 Last1 \(\+15550000001\)/);
    const declined = await s.call(
      'send_message',
      { contactId: 'ct00001', type: 'SMS', message: 'Your order shipped', confirm: true },
      decline,
    );
    assert.equal(declined.result.isError, true);
    assert.equal(declined.asked.length, 1);
    assert.equal(sends().length, 0);

    const sent = await s.call(
      'send_message',
      { contactId: 'ct00001', type: 'SMS', message: 'Your order shipped' },
      accept,
    );
    const post = assertSent(sends()[0], CONVERSATIONS_VERSION);
    assert.deepEqual(post.body, { type: 'SMS', contactId: 'ct00001', message: 'Your order shipped' });
    assert.equal(sent.json.conversationId, 'cv00001');
    assert.equal(s.business.gohighlevel.messages.get('cv00001')?.at(-1)?.body, 'Your order shipped');

    const email = await s.call('send_message', {
      contactId: 'ct00002',
      type: 'Email',
      message: 'Your invoice',
      subject: 'Invoice 42',
      confirm: true,
    });
    assert.equal(typeof email.json.messageId, 'string');
    assert.equal(sends().length, 2);
    assert.deepEqual(sends()[1]?.body, {
      type: 'Email',
      contactId: 'ct00002',
      message: 'Your invoice',
      subject: 'Invoice 42',
    });

    s.fake.script({ method: 'POST', path: '/conversations/messages', times: 1, answer: SERVER_ERROR });
    await assert.rejects(
      s.call('send_message', { contactId: 'ct00003', type: 'SMS', message: 'Hello again', confirm: true }),
      { code: 'UPSTREAM_UNAVAILABLE', message: /sent once and not retried/ },
    );
    assert.equal(sends().filter((r) => (r.body as { contactId: string }).contactId === 'ct00003').length, 1);
  });

  it('send_message shows the user the whole text and subject, sends exactly that, and nothing on decline', async (t) => {
    const s = await setup(t);
    const sends = () => s.fake.received('POST', '/conversations/messages');
    // Long enough that the old 120-character cut hid most of it; the end differs from the start.
    const message = `${'Dear customer, your order is on its way. '.repeat(45)}PS: call us to cancel.`;
    assert.ok(message.length > 1_800 && message.length <= 2_000);
    const subject = `Your order ${'and its delivery '.repeat(8)}`.trim();
    const args = { contactId: 'ct00002', type: 'Email', message, subject };
    const declined = await s.call('send_message', args, decline);
    assert.equal(declined.result.isError, true);
    assert.equal(
      declined.asked[0],
      `Confirm: send an email to First2 Last2 (person2@example.com) with the subject "${subject}", reading: "${message}"?`,
    );
    assert.equal(sends().length, 0, 'nothing sent on decline');

    const sent = await s.call('send_message', args, accept);
    assert.equal(sent.asked[0], declined.asked[0]);
    assert.deepEqual(sends()[0]?.body, { type: 'Email', contactId: 'ct00002', message, subject });

    // No text the user cannot be shown whole: a longer one is refused, and HTML is not taken at all.
    await assert.rejects(s.call('send_message', { ...args, message: 'x'.repeat(2_001) }, accept), /invalid arguments/);
    assert.equal(sends().length, 1);
    await s.call('send_message', { ...args, html: '<p>Something else</p>' }, accept);
    assert.deepEqual(sends()[1]?.body, { type: 'Email', contactId: 'ct00002', message, subject });
  });
});

describe('GoHighLevel full lists', () => {
  it('conversations sharing a last-message time across a page boundary all come back, live and cached', async (t) => {
    const live = await setup(t, { business: tiedBusiness() });
    const all = await live.api.allConversations();
    assert.equal(all.length, TIED);
    assert.equal(new Set(all.map((c) => c.id)).size, TIED);
    const sent = live.fake.received('GET', '/conversations/search');
    assert.equal(sent.length, 2);
    // The 100th is in a group of 7 that the first page cut: the next page starts from its time, included.
    assert.equal(sent[1]?.query.get('startAfterDate'), String(tiedDate(99) + 1));

    const liveIds = await pageConversations(live, 20);
    assert.equal(new Set(liveIds).size, TIED, 'none skipped');
    assert.equal(liveIds.length, TIED, 'none repeated');

    const b = tiedBusiness();
    const items = b.gohighlevel.conversations;
    const cached = await setup(t, {
      business: b,
      cache: stubCache({ conversations: { syncedAt: new Date(), ageMs: 0, items } }),
    });
    const cachedIds = await pageConversations(cached, 20);
    assert.deepEqual(cachedIds, liveIds, 'the same conversations in the same order, cached or live');
    assert.equal(cached.fake.requests.length, 0);
  });

  it('search_conversations gives each conversation once, newest first, whatever order the service gives ties in', async (t) => {
    // The service's order among conversations sharing a time is not documented: here it is by id
    // ascending, the reverse of brainmesh's own, with groups of 7 cut by the service's pages of 100
    // and by the tool's pages.
    const s = await setup(t, { business: tiedBusiness(), emulator: { conversationTies: 'asc' } });
    const expected = Array.from({ length: TIED }, (_, i) => i)
      .sort((a, b) => tiedDate(b) - tiedDate(a) || b - a)
      .map((i) => `cv${pad(i)}`);
    // The emulator really does answer ties in the other order.
    const raw = await fetch(`${s.fake.url}/conversations/search?locationId=${CREDS.locationId}&limit=7`, {
      headers: { authorization: `Bearer ${CREDS.token}`, version: CONVERSATIONS_VERSION },
    });
    const { conversations } = (await raw.json()) as { conversations: { id: string }[] };
    assert.deepEqual(
      conversations.map((c) => c.id),
      [...expected.slice(0, 7)].reverse(),
    );
    // Fewer than 100 requests in all, so that the burst limit does not slow the test.
    for (const limit of [5, 7, 20, 100]) {
      const ids = await pageConversations(s, limit);
      assert.deepEqual(ids, expected, `every conversation exactly once, newest first, by ${limit}`);
    }
    for (const r of s.fake.received('GET', '/conversations/search').slice(1)) assert.equal(r.query.get('limit'), '100');
  });

  it('search_conversations goes past a cursor whose time is all given, and fails clearly when one time fills a page', async (t) => {
    // 60 at one time, 80 at the next, 10 after: the second page re-reads the first 60 and 40 of
    // the 80, which it leaves out as cut, and asks again from before the 60's time.
    const fits = await setup(t, { business: groupedBusiness([60, 80, 10]), emulator: { conversationTies: 'asc' } });
    const first = await fits.call('search_conversations', { limit: 100 });
    assert.equal(first.json.count, 60);
    const second = await fits.call('search_conversations', { limit: 100, cursor: first.json.next });
    assert.equal(second.json.count, 90);
    assert.equal(second.json.next, undefined);
    const sent = fits.fake.received('GET', '/conversations/search').map((r) => r.query.get('startAfterDate'));
    assert.deepEqual(sent, [null, String(NOW.getTime() + 1), String(NOW.getTime())]);
    const ids = [...arr(first.json.conversations), ...arr(second.json.conversations)].map((c) => c.id);
    assert.equal(new Set(ids).size, 150);

    // 101 at the second time: no page of 100 can hold them, and the read says so rather than skip.
    const s = await setup(t, { business: groupedBusiness([60, 101]) });
    const start = await s.call('search_conversations', { limit: 100 });
    assert.equal(start.json.count, 60);
    await assert.rejects(s.call('search_conversations', { limit: 100, cursor: start.json.next }), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /full page of 100 conversations held none not already given: more of them share one last-message time/,
    });
  });

  const contactsOf = (from: number, n: number, searchAfter: boolean) =>
    Array.from({ length: n }, (_, i) => {
      const id = `ct${pad(from + i)}`;
      const dateAdded = new Date(NOW.getTime() - (from + i) * 60_000).toISOString();
      return { id, tags: [], dateAdded, ...(searchAfter ? { searchAfter: [Date.parse(dateAdded), id] } : {}) };
    });
  const page = (body: unknown) => ({ status: 200, body });

  it('allContacts fails, rather than hangs, on a page that repeats the one before', async (t) => {
    const s = await setup(t);
    s.fake.script({
      method: 'POST',
      path: '/contacts/search',
      times: 10,
      answer: page({ contacts: contactsOf(0, 500, true), total: 2_000 }),
    });
    await assert.rejects(s.api.allContacts(), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /none not already read, with 500 of 2000 read/,
    });
    assert.equal(s.fake.received('POST', '/contacts/search').length, 2);
  });

  it('allContacts fails, rather than stops short, when a page past 10,000 has no searchAfter', async (t) => {
    const s = await setup(t);
    for (let p = 0; p < 20; p++)
      s.fake.script({
        method: 'POST',
        path: '/contacts/search',
        times: 1,
        answer: page({ contacts: contactsOf(p * 500, 500, false), total: 20_000 }),
      });
    await assert.rejects(s.api.allContacts(), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /no searchAfter to go on from, with 10000 of 20000 read/,
    });
    assert.equal(s.fake.received('POST', '/contacts/search').length, 20);
  });

  const opportunities = Array.from({ length: 100 }, (_, i) => ({
    id: `op${pad(i)}`,
    name: `Deal ${i}`,
    pipelineId: 'pl001',
    pipelineStageId: 'st-new',
    status: 'open',
    contactId: 'ct00001',
    createdAt: new Date(NOW.getTime() - i * HOUR).toISOString(),
  }));

  it('allOpportunities fails on a page that repeats the one before, and on a full page without a cursor', async (t) => {
    const s = await setup(t);
    const meta = { total: 1_000, startAfter: NOW.getTime() - 99 * HOUR, startAfterId: 'op00099', nextPage: 2 };
    s.fake.script({ method: 'GET', path: '/opportunities/search', times: 10, answer: page({ opportunities, meta }) });
    await assert.rejects(s.api.allOpportunities(), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /none not already read/,
    });
    assert.equal(s.fake.received('GET', '/opportunities/search').length, 2);

    const bare = await setup(t);
    bare.fake.script({
      method: 'GET',
      path: '/opportunities/search',
      times: 1,
      answer: page({ opportunities, meta: { total: 1_000, nextPage: 2 } }),
    });
    await assert.rejects(bare.api.allOpportunities(), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /no startAfter and startAfterId/,
    });
  });

  it('allConversations fails on a page that repeats the one before, and on a full page without lastMessageDate', async (t) => {
    const s = await setup(t);
    const conversations = Array.from({ length: 100 }, (_, i) => ({
      id: `cv${pad(i)}`,
      contactId: `ct${pad(i)}`,
      lastMessageDate: NOW.getTime() - i * 60_000,
    }));
    s.fake.script({
      method: 'GET',
      path: '/conversations/search',
      times: 10,
      answer: page({ conversations, total: 1_000 }),
    });
    await assert.rejects(s.api.allConversations(), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /none not already read/,
    });
    assert.equal(s.fake.received('GET', '/conversations/search').length, 2);

    const undated = await setup(t);
    undated.fake.script({
      method: 'GET',
      path: '/conversations/search',
      times: 1,
      answer: page({ conversations: conversations.map(({ lastMessageDate: _, ...c }) => c), total: 1_000 }),
    });
    await assert.rejects(undated.api.allConversations(), {
      code: 'UPSTREAM_UNAVAILABLE',
      message: /no lastMessageDate/,
    });
  });
});

describe('GoHighLevel calendars', () => {
  it('list_appointments reads every calendar over the default range, or one calendar over a given range', async (t) => {
    const s = await setup(t);
    const all = await s.call('list_appointments', {});
    assertSent(s.fake.received('GET', '/calendars/')[0], CONVERSATIONS_VERSION);
    const events = s.fake.received('GET', '/calendars/events');
    assert.deepEqual(events.map((r) => r.query.get('calendarId')).sort(), ['cal-consult', 'cal-delivery']);
    for (const r of events) {
      assertSent(r, CONVERSATIONS_VERSION);
      assert.match(r.query.get('startTime') ?? '', /^\d{13}$/);
      assert.match(r.query.get('endTime') ?? '', /^\d{13}$/);
    }
    assert.deepEqual(
      arr(all.json.appointments).map((a) => [a.id, a.calendarName]),
      [
        ['ev-past', 'Consultations'],
        ['ev-soon', 'Deliveries'],
        ['ev-later', 'Consultations'],
      ],
    );

    const from = new Date(Date.now() + 2 * DAY);
    const to = new Date(Date.now() + 90 * DAY);
    const one = await s.call('list_appointments', {
      calendarId: 'cal-consult',
      from: from.toISOString(),
      to: to.toISOString(),
    });
    const last = s.fake.received('GET', '/calendars/events').at(-1);
    assert.equal(last?.query.get('calendarId'), 'cal-consult');
    assert.equal(last?.query.get('startTime'), String(from.getTime()));
    assert.equal(last?.query.get('endTime'), String(to.getTime()));
    assert.deepEqual(
      arr(one.json.appointments).map((a) => a.id),
      ['ev-later', 'ev-far'],
    );
  });
});

describe('GoHighLevel from the sync cache', () => {
  it('answers reads from a fresh copy, says so with its age, and sends nothing', async (t) => {
    const b = business();
    const syncedAt = new Date(Date.now() - 90_000);
    const ageMs = 90_000;
    const cache = stubCache({
      contacts: { syncedAt, ageMs, items: b.gohighlevel.contacts },
      opportunities: { syncedAt, ageMs, items: b.gohighlevel.opportunities },
      pipelines: { syncedAt, ageMs, items: b.gohighlevel.pipelines },
      conversations: { syncedAt, ageMs, items: b.gohighlevel.conversations },
    });
    const s = await setup(t, { cache });
    const found = await s.call('search_contacts', { query: 'acme clinic', tags: ['vip'], limit: 100 });
    assert.equal(found.json.source, 'cached');
    assert.equal(found.source, 'cached');
    assert.equal(found.json.ageSeconds, 90);
    assert.equal(found.json.syncedAt, syncedAt.toISOString());
    assert.equal(found.json.total, Math.ceil(CONTACTS / 30));

    assert.equal((await s.call('get_contact', { contactId: 'ct00007' })).json.source, 'cached');
    const opportunities = await s.call('search_opportunities', { status: 'won', limit: 100 });
    assert.equal(opportunities.json.total, OPPORTUNITIES / 5);
    assert.equal(opportunities.json.source, 'cached');
    assert.equal((await s.call('list_pipelines', {})).json.source, 'cached');
    const conversations = await s.call('search_conversations', { limit: 20 });
    assert.equal(conversations.json.count, 20);
    assert.equal(conversations.json.source, 'cached');
    assert.equal(s.fake.requests.length, 0);
  });

  it('goes live when the cache has no fresh copy', async (t) => {
    const s = await setup(t, { cache: stubCache({}) });
    const found = await s.call('search_contacts', { query: 'acme clinic', tags: ['vip'], limit: 100 });
    assert.equal(found.json.source, 'live');
    assert.equal(found.source, undefined);
    assert.equal(found.json.total, Math.ceil(CONTACTS / 30));
    assert.equal(s.fake.received('POST', '/contacts/search').length, 1);
  });
});

describe('GoHighLevel emulator', () => {
  it('refuses a wrong token or Version, counts the burst window in its headers, and answers 429 past 100', async (t) => {
    // The emulator's clock is moved by hand: the window does not depend on how fast the test runs.
    let clock = NOW.getTime();
    const s = await setup(t, { emulator: { now: () => clock } });
    const get = (headers: Record<string, string>) =>
      fetch(`${s.fake.url}/contacts/ct00001`, { headers: { accept: 'application/json', ...headers } });
    const auth = { authorization: `Bearer ${CREDS.token}` };

    const noToken = await get({ authorization: 'Bearer wrong', version: CONTACTS_VERSION });
    assert.equal(noToken.status, 401);
    assert.deepEqual(await noToken.json(), {
      statusCode: 401,
      message: 'Invalid token: access token is invalid',
      error: 'Unauthorized',
    });
    const wrongVersion = await get({ ...auth, version: CONVERSATIONS_VERSION });
    assert.equal(wrongVersion.status, 400);
    assert.deepEqual(await wrongVersion.json(), { statusCode: 400, message: 'Version header is missing or invalid' });

    const ok = await get({ ...auth, version: CONTACTS_VERSION });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-ratelimit-max'), '100');
    assert.equal(ok.headers.get('x-ratelimit-interval-milliseconds'), '10000');
    assert.equal(ok.headers.get('x-ratelimit-limit-daily'), '200000');
    assert.equal(ok.headers.get('x-ratelimit-remaining'), '97');
    assert.equal(ok.headers.get('x-ratelimit-daily-remaining'), String(200_000 - 3));
    await ok.arrayBuffer();

    let last: Response | undefined;
    for (let i = 0; i < 98; i++) {
      last = await get({ ...auth, version: CONTACTS_VERSION });
      if (last.status !== 429) await last.arrayBuffer();
    }
    assert.equal(last?.status, 429, 'the 101st within 10 s');
    assert.deepEqual(await last?.json(), { statusCode: 429, message: 'Too Many Requests' });
    assert.equal(last?.headers.get('x-ratelimit-remaining'), '0');

    clock += 9_999;
    const still = await get({ ...auth, version: CONTACTS_VERSION });
    assert.equal(still.status, 429, 'the window lasts 10 s');
    await still.arrayBuffer();
    clock += 1;
    const again = await get({ ...auth, version: CONTACTS_VERSION });
    assert.equal(again.status, 200, 'a new window');
    assert.equal(again.headers.get('x-ratelimit-remaining'), '99');
    await again.arrayBuffer();
  });

  it('with rate limits off (sample mode) never answers 429, and still sends the rate-limit headers', async () => {
    const emulator = goHighLevelEmulator(business(), CREDS, { rateLimits: false, now: () => NOW.getTime() });
    const headers = { authorization: `Bearer ${CREDS.token}`, version: CONTACTS_VERSION };
    let res: Response | undefined;
    for (let i = 0; i < 150; i++) {
      res = await emulator.fetch(`${SAMPLE_ORIGIN}/contacts/ct00001`, { headers });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    assert.equal(res?.headers.get('x-ratelimit-max'), '100');
    assert.equal(res?.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(res?.headers.get('x-ratelimit-daily-remaining'), String(200_000 - 150));
  });

  it('honours the contact search sort by dateAdded, either way, and refuses another', async () => {
    const emulator = goHighLevelEmulator(business(), CREDS);
    const search = async (body: Record<string, unknown>) => {
      const res = await emulator.fetch(`${SAMPLE_ORIGIN}/contacts/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CREDS.token}`, version: CONTACTS_VERSION },
        body: JSON.stringify({ locationId: CREDS.locationId, pageLimit: 2, ...body }),
      });
      return { status: res.status, body: (await res.json()) as { contacts: { id: string; searchAfter: unknown }[] } };
    };
    const ids = (r: { body: { contacts: { id: string }[] } }) => r.body.contacts.map((c) => c.id);
    const desc = await search({ sort: [{ field: 'dateAdded', direction: 'desc' }] });
    assert.deepEqual(ids(desc), ['ct00000', 'ct00001']);
    const asc = await search({ sort: [{ field: 'dateAdded', direction: 'asc' }] });
    assert.deepEqual(ids(asc), ['ct01149', 'ct01148']);
    const ascNext = await search({
      sort: [{ field: 'dateAdded', direction: 'asc' }],
      searchAfter: asc.body.contacts.at(-1)?.searchAfter,
    });
    assert.deepEqual(ids(ascNext), ['ct01147', 'ct01146']);
    assert.equal((await search({ sort: [{ field: 'email', direction: 'asc' }] })).status, 422);
  });

  it('answers 422 with a message array for a body it cannot take', async (t) => {
    const s = await setup(t);
    const res = await fetch(`${s.fake.url}/contacts/ct00001`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${CREDS.token}`,
        version: CONTACTS_VERSION,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ companyName: 'Not here' }),
    });
    assert.equal(res.status, 422);
    const body = (await res.json()) as { statusCode: number; message: string[] };
    assert.equal(body.statusCode, 422);
    assert.deepEqual(body.message, ['property companyName should not exist']);
  });
});

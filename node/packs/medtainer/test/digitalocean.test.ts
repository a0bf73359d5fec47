import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiClient, OutboundLimiter } from '@brainmesh/node/kit';
import { callTool, type FakeService, quietLogger, serveFake } from '@brainmesh/node/kit/testing';
import { DigitalOceanApi } from '../src/digitalocean/client.js';
import { DIGITALOCEAN_LIMIT, digitalOceanPolicy } from '../src/digitalocean/policy.js';
import { digitalOceanTools } from '../src/digitalocean/tools.js';
import type { App, Droplet } from '../src/digitalocean/wire.js';
import { emptyBusiness, type SampleBusiness } from '../src/sample/business.js';
import { digitalOceanEmulator } from '../src/sample/digitalocean.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const TOKEN = 'test-token';
const AUTH = `Bearer ${TOKEN}`;
const accept = () => ({ action: 'accept' as const, content: { confirm: true } });
const decline = () => ({ action: 'decline' as const });

function dropletAt(i: number): Droplet {
  return {
    id: 1000 + i,
    name: `web-${i}`,
    memory: 1024,
    vcpus: 1,
    disk: 25,
    locked: false,
    status: i % 10 === 0 ? 'off' : 'active',
    created_at: new Date(NOW.getTime() - i * 3_600_000).toISOString(),
    size_slug: 's-1vcpu-1gb',
    region: { slug: 'nyc3', name: 'New York 3' },
    image: { id: 63663980, name: '22.04 (LTS) x64', slug: 'ubuntu-22-04-x64' },
    networks: {
      v4: [
        { ip_address: `203.0.${i >> 8}.${i & 255}`, type: 'public' },
        { ip_address: `10.10.${i >> 8}.${i & 255}`, type: 'private' },
      ],
      v6: [],
    },
    tags: i % 3 === 0 ? ['env:prod', 'web'] : ['env:staging'],
  };
}

function appAt(i: number): App {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    spec: { name: `app-${i}` },
    default_ingress: `https://app-${i}-abc12.ondigitalocean.app`,
    created_at: NOW.toISOString(),
    active_deployment: { id: `dep-${i}`, phase: 'ACTIVE' },
    region: { slug: 'fra' },
    tier_slug: 'basic',
  };
}

function business(droplets: number, apps = 0): SampleBusiness {
  const b = emptyBusiness(NOW);
  for (let i = 0; i < droplets; i++) b.digitalocean.droplets.push(dropletAt(i));
  for (let i = 0; i < apps; i++) b.digitalocean.apps.push(appAt(i));
  b.digitalocean.account = {
    email: 'ops@medtainer.example',
    name: 'MedTainer Ops',
    uuid: 'b6fr89dbf6d9156cace5f3c78dc9851d957381ef',
    email_verified: true,
    status: 'active',
    status_message: ' ',
    droplet_limit: 500,
  };
  b.digitalocean.balance = {
    month_to_date_balance: '23.44',
    account_balance: '-27.52',
    month_to_date_usage: '50.96',
    generated_at: NOW.toISOString(),
  };
  return b;
}

const fakes: FakeService[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function setup(options: { droplets?: number; apps?: number; mode?: 'live' | 'sample' } = {}) {
  const b = business(options.droplets ?? 3, options.apps ?? 0);
  const fake = await serveFake(digitalOceanEmulator(b, { token: TOKEN }));
  fakes.push(fake);
  const client = new ApiClient({
    policy: digitalOceanPolicy,
    baseUrl: fake.url,
    auth: () => ({ authorization: AUTH }),
    limiter: new OutboundLimiter(DIGITALOCEAN_LIMIT),
    logger: quietLogger,
  });
  const api = new DigitalOceanApi(client);
  return { business: b, fake, api, tools: digitalOceanTools({ api, mode: options.mode ?? 'live' }) };
}

function assertAuth(fake: FakeService) {
  assert.ok(fake.requests.length > 0);
  for (const r of fake.requests) assert.equal(r.headers.get('authorization'), AUTH);
}

const rateLimited = () => ({
  status: 429,
  headers: {
    'retry-after': '1',
    'ratelimit-limit': '5000',
    'ratelimit-remaining': '0',
    'ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1),
  },
  body: { id: 'too_many_requests', message: 'API Rate limit exceeded.' },
});

describe('digitalocean tools against the emulated API on loopback', () => {
  it('has the five tools, the power action marked destructive with a confirm argument', async () => {
    const { tools } = await setup();
    assert.deepEqual(
      tools.map((t) => t.name),
      [
        'digitalocean.list_droplets',
        'digitalocean.get_droplet',
        'digitalocean.droplet_action',
        'digitalocean.get_account',
        'digitalocean.list_apps',
      ],
    );
    for (const t of tools) {
      const write = t.name === 'digitalocean.droplet_action';
      assert.equal(t.annotations?.readOnlyHint, !write, t.name);
      assert.equal(t.annotations?.openWorldHint, true, t.name);
      if (write) {
        assert.equal(t.annotations?.destructiveHint, true);
        assert.ok('confirm' in t.input.shape);
      }
    }
  });

  it('list_droplets follows links.pages.next through all 450 droplets, 200 a page', async () => {
    const { fake, tools } = await setup({ droplets: 450, mode: 'sample' });
    const called = await callTool(tools, 'digitalocean.list_droplets', {});
    const pages = fake.received('GET', '/v2/droplets');
    assert.deepEqual(
      pages.map((r) => [r.query.get('page'), r.query.get('per_page')]),
      [
        ['1', '200'],
        ['2', '200'],
        ['3', '200'],
      ],
    );
    assertAuth(fake);
    assert.equal(called.source, 'sample');
    assert.equal(called.json.count, 450);
    assert.deepEqual(called.json.byStatus, { off: 45, active: 405 });
    const droplets = called.json.droplets as { id: number; name: string; publicIpv4: string }[];
    assert.equal(new Set(droplets.map((d) => d.id)).size, 450);
    assert.deepEqual(droplets[1], {
      id: 1001,
      name: 'web-1',
      status: 'active',
      size: 's-1vcpu-1gb',
      region: 'nyc3',
      publicIpv4: '203.0.0.1',
      tags: ['env:staging'],
    });
  });

  it('list_droplets filters by tag on the server and by status here', async () => {
    const { fake, tools } = await setup({ droplets: 30 });
    const prod = await callTool(tools, 'digitalocean.list_droplets', { tag: 'env:prod', status: 'off' });
    assert.equal(fake.requests[0]?.query.get('tag_name'), 'env:prod');
    assert.deepEqual(
      (prod.json.droplets as { name: string }[]).map((d) => d.name),
      ['web-0'],
    );
  });

  it('waits out a 429 (Retry-After) on a read and answers in full', async () => {
    const { fake, tools } = await setup({ droplets: 450 });
    fake.script({ method: 'GET', path: '/v2/droplets', times: 1, answer: rateLimited() });
    const called = await callTool(tools, 'digitalocean.list_droplets', {});
    assert.equal(called.json.count, 450);
    assert.equal(fake.received('GET', '/v2/droplets').length, 4);
  });

  it('get_droplet reads one droplet, and a missing one is NOT_FOUND', async () => {
    const { fake, tools } = await setup();
    const called = await callTool(tools, 'digitalocean.get_droplet', { droplet_id: 1002 });
    assert.equal(fake.requests[0]?.method, 'GET');
    assert.equal(fake.requests[0]?.path, '/v2/droplets/1002');
    assertAuth(fake);
    const droplet = called.json.droplet as Record<string, unknown>;
    assert.equal(droplet.name, 'web-2');
    assert.equal(droplet.status, 'active');
    assert.deepEqual(droplet.networks, {
      v4: [
        { ip: '203.0.0.2', type: 'public' },
        { ip: '10.10.0.2', type: 'private' },
      ],
      v6: [],
    });
    await assert.rejects(
      callTool(tools, 'digitalocean.get_droplet', { droplet_id: 999_999 }),
      /DigitalOcean answered 404: not_found: The resource you were accessing could not be found\./,
    );
  });

  it('droplet_action asks first (naming the droplet), posts once, and the action is polled to completion', async () => {
    const { fake, tools, business: b } = await setup();
    const args = { droplet_id: 1001, type: 'power_off' };
    const posts = () => fake.received('POST', '/v2/droplets/1001/actions');

    const refused = await callTool(tools, 'digitalocean.droplet_action', args);
    assert.equal(refused.result.isError, true);
    assert.match(refused.text, /power off \(hard, like pulling the plug\) droplet web-1 \(id 1001, now active\)/);
    assert.match(refused.text, /confirm: true/);
    const declined = await callTool(
      tools,
      'digitalocean.droplet_action',
      { ...args, confirm: true },
      { elicit: decline },
    );
    assert.equal(declined.result.isError, true);
    assert.equal(declined.asked.length, 1);
    // Only reads so far: the droplet, for its name.
    assert.equal(posts().length, 0);
    assert.ok(fake.requests.every((r) => r.method === 'GET'));

    const started = await callTool(tools, 'digitalocean.droplet_action', { ...args, confirm: true });
    assert.equal(posts().length, 1);
    assert.deepEqual(posts()[0]?.body, { type: 'power_off' });
    assertAuth(fake);
    const action = started.json.action as { id: number; status: string; type: string };
    assert.equal(action.status, 'in-progress');
    assert.equal(action.type, 'power_off');
    assert.match(String(started.json.next), new RegExp(`"action_id": ${action.id}`));
    assert.equal(b.digitalocean.droplets[1]?.status, 'active');

    const polled = await callTool(tools, 'digitalocean.get_droplet', { droplet_id: 1001, action_id: action.id });
    assert.equal(fake.received('GET', `/v2/actions/${action.id}`).length, 1);
    assert.equal((polled.json.action as { status: string }).status, 'completed');
    assert.equal((polled.json.droplet as { status: string }).status, 'off');

    const on = await callTool(
      tools,
      'digitalocean.droplet_action',
      { droplet_id: 1001, type: 'power_on' },
      { elicit: accept },
    );
    assert.match(on.asked[0] ?? '', /power on droplet web-1 \(id 1001, now off\)/);
    assert.equal(posts().length, 2);
    const onId = (on.json.action as { id: number }).id;
    assert.equal(onId, action.id + 1);
    await callTool(tools, 'digitalocean.get_droplet', { droplet_id: 1001, action_id: onId });
    assert.equal(b.digitalocean.droplets[1]?.status, 'active');
  });

  it('get_droplet refuses an action that is not that droplet’s', async () => {
    const { fake, tools, business: b } = await setup();
    const started = await callTool(tools, 'digitalocean.droplet_action', {
      droplet_id: 1001,
      type: 'reboot',
      confirm: true,
    });
    const actionId = (started.json.action as { id: number }).id;

    const wrong = await callTool(tools, 'digitalocean.get_droplet', { droplet_id: 1002, action_id: actionId });
    assert.equal(wrong.result.isError, true);
    assert.match(wrong.text, new RegExp(`Action ${actionId} \\(reboot\\) is for droplet 1001, not droplet 1002`));
    assert.doesNotMatch(wrong.text, /"droplet"/);
    // The other droplet was not read, so nothing of it is shown as the action's outcome.
    assert.equal(fake.received('GET', '/v2/droplets/1002').length, 0);

    // Not a droplet at all: an action on an image, say.
    fake.script({
      method: 'GET',
      path: '/v2/actions/42',
      times: 1,
      answer: {
        status: 200,
        body: {
          action: {
            id: 42,
            status: 'completed',
            type: 'transfer',
            started_at: NOW.toISOString(),
            completed_at: NOW.toISOString(),
            resource_id: 1002,
            resource_type: 'image',
          },
        },
      },
    });
    const image = await callTool(tools, 'digitalocean.get_droplet', { droplet_id: 1002, action_id: 42 });
    assert.equal(image.result.isError, true);
    assert.match(image.text, /is for image 1002, not droplet 1002/);

    // The right pair still reports.
    const right = await callTool(tools, 'digitalocean.get_droplet', { droplet_id: 1001, action_id: actionId });
    assert.equal(right.result.isError, undefined);
    assert.deepEqual((right.json.action as { resource: unknown }).resource, { type: 'droplet', id: 1001 });
    assert.equal(b.digitalocean.droplets[1]?.status, 'active');
  });

  it('droplet_action is sent once on a 500 and says it was not retried', async () => {
    const { fake, tools } = await setup();
    fake.script({
      method: 'POST',
      path: '/v2/droplets/1001/actions',
      times: 5,
      answer: { status: 500, body: { id: 'server_error', message: 'Unexpected server-side error' } },
    });
    await assert.rejects(
      callTool(tools, 'digitalocean.droplet_action', { droplet_id: 1001, type: 'reboot', confirm: true }),
      (err: Error) => {
        assert.match(err.message, /DigitalOcean answered 500/);
        assert.match(err.message, /sent once and not retried/);
        return true;
      },
    );
    assert.equal(fake.received('POST', '/v2/droplets/1001/actions').length, 1);
  });

  it('droplet_action is not retried after a 429 either', async () => {
    const { fake, tools } = await setup();
    fake.script({ method: 'POST', path: '/v2/droplets/1001/actions', times: 5, answer: rateLimited() });
    await assert.rejects(
      callTool(tools, 'digitalocean.droplet_action', { droplet_id: 1001, type: 'reboot', confirm: true }),
      /rate limit is reached: try again in 1 s \(this call is never retried automatically\)/,
    );
    assert.equal(fake.received('POST', '/v2/droplets/1001/actions').length, 1);
  });

  it('get_account answers with the account and the balance, as strings and numbers', async () => {
    const { fake, tools } = await setup();
    const called = await callTool(tools, 'digitalocean.get_account', {});
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`).sort(), [
      'GET /v2/account',
      'GET /v2/customers/my/balance',
    ]);
    assertAuth(fake);
    assert.deepEqual(called.json.account, {
      email: 'ops@medtainer.example',
      name: 'MedTainer Ops',
      uuid: 'b6fr89dbf6d9156cace5f3c78dc9851d957381ef',
      status: 'active',
      emailVerified: true,
      dropletLimit: 500,
    });
    const balance = called.json.balance as Record<string, unknown>;
    assert.equal(balance.account_balance, '-27.52');
    assert.equal(balance.month_to_date_usage, '50.96');
    assert.deepEqual(balance.amounts, {
      month_to_date_balance: 23.44,
      account_balance: -27.52,
      month_to_date_usage: 50.96,
    });
    assert.match(String(balance.note), /credit/);
  });

  it('get_account still shows the account when the token cannot read billing', async () => {
    const { fake, tools } = await setup();
    fake.script({
      path: '/v2/customers/my/balance',
      times: 1,
      answer: { status: 403, body: { id: 'forbidden', message: 'You do not have access for the attempted action.' } },
    });
    const called = await callTool(tools, 'digitalocean.get_account', {});
    assert.equal((called.json.account as { email: string }).email, 'ops@medtainer.example');
    assert.match(String((called.json.balance as { unavailable: string }).unavailable), /403: forbidden/);
  });

  it('list_apps reads every page', async () => {
    const { fake, tools } = await setup({ apps: 250 });
    const called = await callTool(tools, 'digitalocean.list_apps', {});
    assert.deepEqual(
      fake.received('GET', '/v2/apps').map((r) => r.query.get('page')),
      ['1', '2'],
    );
    assertAuth(fake);
    assert.equal(called.json.count, 250);
    assert.deepEqual((called.json.apps as unknown[])[0], {
      id: '00000000-0000-4000-8000-000000000000',
      name: 'app-0',
      url: 'https://app-0-abc12.ondigitalocean.app',
      region: 'fra',
      tier: 'basic',
      phase: 'ACTIVE',
      createdAt: NOW.toISOString(),
    });
  });
});

describe('digitalocean emulator', () => {
  const get = (path: string, query = '', auth = AUTH) => ({
    method: 'GET',
    path,
    query: new URLSearchParams(query),
    headers: new Headers({ authorization: auth, host: 'do.test:8080' }),
    body: undefined,
  });

  it('refuses a wrong token as DigitalOcean does', async () => {
    const emulator = digitalOceanEmulator(business(1), { token: TOKEN });
    const answer = await emulator.handle(get('/v2/droplets', '', 'Bearer nope'));
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.body, { id: 'unauthorized', message: 'Unable to authenticate you' });
  });

  it('links pages with full URLs on the request’s host and counts the total', async () => {
    const emulator = digitalOceanEmulator(business(45), { token: TOKEN });
    const middle = await emulator.handle(get('/v2/droplets', 'page=2&per_page=20'));
    const body = middle.body as {
      droplets: unknown[];
      links: { pages: Record<string, string> };
      meta: { total: number };
    };
    assert.equal(body.droplets.length, 20);
    assert.equal(body.meta.total, 45);
    assert.deepEqual(body.links.pages, {
      first: 'http://do.test:8080/v2/droplets?page=1&per_page=20',
      prev: 'http://do.test:8080/v2/droplets?page=1&per_page=20',
      next: 'http://do.test:8080/v2/droplets?page=3&per_page=20',
      last: 'http://do.test:8080/v2/droplets?page=3&per_page=20',
    });
    const single = await emulator.handle(get('/v2/droplets', 'per_page=500'));
    assert.deepEqual((single.body as { links: unknown }).links, { pages: {} });
  });

  it('sends RateLimit-* on every answer and allows 250 a minute', async () => {
    let now = 1_700_000_000_000;
    const emulator = digitalOceanEmulator(business(1), { token: TOKEN }, { now: () => now });
    const first = await emulator.handle(get('/v2/account'));
    assert.deepEqual(first.headers, {
      'ratelimit-limit': '5000',
      'ratelimit-remaining': '4999',
      'ratelimit-reset': String((1_700_000_000_000 + 3_600_000) / 1000),
    });
    for (let i = 1; i < 250; i++) {
      now += 10;
      assert.equal((await emulator.handle(get('/v2/account'))).status, 200);
    }
    const limited = await emulator.handle(get('/v2/droplets/1000'));
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body, { id: 'too_many_requests', message: 'API Rate limit exceeded.' });
    assert.equal(limited.headers?.['ratelimit-remaining'], '4750');
    assert.equal(limited.headers?.['retry-after'], '58');
    const missing = await emulator.handle(get('/v2/nothing'));
    assert.equal(missing.headers?.['ratelimit-limit'], '5000');
    now += 60_000;
    assert.equal((await emulator.handle(get('/v2/droplets/1000'))).status, 200);
  });

  it('never answers 429 when rate limits are off (sample mode), and still sends RateLimit-*', async () => {
    const now = 1_700_000_000_000;
    const emulator = digitalOceanEmulator(business(1), { token: TOKEN }, { now: () => now, rateLimits: false });
    let last: Record<string, string> | undefined;
    for (let i = 0; i < 300; i++) {
      const answer = await emulator.handle(get('/v2/account'));
      assert.equal(answer.status, 200);
      last = answer.headers;
    }
    assert.equal(last?.['ratelimit-limit'], '5000');
    assert.equal(last?.['ratelimit-remaining'], '4700');
    assert.equal(last?.['ratelimit-reset'], String((now + 3_600_000) / 1000));
    assert.equal((await emulator.handle(get('/v2/account', '', 'Bearer nope'))).status, 401);
  });
});

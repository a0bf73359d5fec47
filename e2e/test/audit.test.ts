import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import {
  type AuditEvent,
  auditHash,
  type Db,
  GENESIS_HASH,
  KeyRing,
  signAuditBatch,
  signLinkToken,
} from '@brainmesh/shared';
import {
  admin,
  BRAINMESH,
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  openHomeDb,
  runCli,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

interface Row {
  id: number;
  node: string;
  seq: number;
  tool: string;
  params: Record<string, unknown>;
  response: { content?: Array<{ text?: string }> } | null;
  status: string;
  source: string;
  principal: string;
  traceId: string;
  durationMs: number;
  hub: { principal: string; outcome: string; durationMs: number } | null;
}

/** The audit trail: written on the node, landed on the hub, read back, tailed and verified. */
describe('the audit trail', { timeout: 240_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let alpha: NodeProcess;

  before(async () => {
    hub = await startHub(scope);
    alpha = await startNode(scope, hub, { name: 'alpha' });
    await startNode(scope, hub, { name: 'beta' });
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);
  });

  const search = async (query: Record<string, string>) => {
    const res = await admin(hub, 'GET', `/admin/audit?${new URLSearchParams(query)}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { events: Row[]; nextCursor: string | null };
  };
  /** Waits until the hub holds `count` rows matching `query`. */
  const landed = (query: Record<string, string>, count = 1) =>
    until(
      async () => {
        const { events } = await search({ ...query, limit: '500' });
        return events.length >= count ? events : undefined;
      },
      `${count} audit rows for ${JSON.stringify(query)}`,
    );

  it('writes each call on its node and lands it centrally, joined to the hub’s own record', async (t) => {
    const { client } = await connectClient(t, hub);
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'first call' } })), 'first call');
    const [row] = await landed({ node: 'alpha', text: 'first call' });
    assert.ok(row);
    assert.equal(row.tool, 'echo');
    assert.deepEqual(row.params, { text: 'first call' });
    assert.equal(row.response?.content?.[0]?.text, 'first call');
    assert.deepEqual([row.status, row.source], ['ok', 'live']);
    assert.match(row.principal, /^key:\w{10}$/);
    assert.ok(row.durationMs >= 0);
    // The hub's record of the same call, under the same trace id, once it is written.
    const joined = await until(async () => {
      const { events } = await search({ traceId: row.traceId });
      return events[0]?.hub ?? undefined;
    }, 'the hub’s record of the call');
    assert.deepEqual([joined.principal, joined.outcome], [row.principal, 'ok']);
    assert.ok(joined.durationMs >= row.durationMs);
  });

  it('combines filters and pages through results with a cursor, newest first', async (t) => {
    const { client } = await connectClient(t, hub);
    for (let i = 0; i < 5; i++) {
      await client.callTool({ name: 'alpha__echo', arguments: { text: `paged ${i}` } });
      await client.callTool({ name: 'beta__echo', arguments: { text: `paged ${i}` } });
    }
    const bad = await client.callTool({ name: 'alpha__echo', arguments: { text: 42 } });
    assert.equal(bad.isError, true);
    await landed({ text: 'paged' }, 10);
    await landed({ node: 'alpha', status: 'error' });

    const seen: Row[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: Row[]; nextCursor: string | null } = await search({
        tool: 'alpha__echo',
        text: 'paged',
        limit: '2',
        ...(cursor === null ? {} : { cursor }),
      });
      assert.ok(page.events.length <= 2);
      seen.push(...page.events);
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(
      seen.map((r) => r.params.text),
      ['paged 4', 'paged 3', 'paged 2', 'paged 1', 'paged 0'],
    );
    assert.ok(seen.every((r) => r.node === 'alpha' && r.status === 'ok'));

    const errors = await search({ node: 'alpha', status: 'error', since: new Date(Date.now() - 60_000).toISOString() });
    assert.deepEqual(
      errors.events.map((r) => r.params.text),
      [42],
    );
    assert.equal((await search({ node: 'beta', status: 'error' })).events.length, 0);
    assert.equal(
      (await search({ text: 'paged', until: new Date(Date.now() - 3_600_000).toISOString() })).events.length,
      0,
    );

    const cli = await runCli(hub, ['audit', 'search', '--tool', 'beta__echo', '--text', 'paged 3']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(
      cli.stdout,
      /^AT\s+NODE\s+TOOL\s+STATUS\s+TOOK\s+PRINCIPAL\s+TRACE\n\S+\s+beta\s+echo\s+ok\s+\d+ms\s+key:\w+\s+\S+\n$/,
    );
    const json = JSON.parse(
      (await runCli(hub, ['audit', 'search', '--node', 'beta', '--limit', '1', '--json'])).stdout,
    );
    assert.equal(json.events.length, 1);
    assert.equal(typeof json.nextCursor, 'string');
    const badSince = await runCli(hub, ['audit', 'search', '--since', 'yesterday']);
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /--since must be an ISO time .* or an age \(15m, 2h, 7d\), got "yesterday"/);
  });

  it('keeps secrets out of both tables and the logs', async (t) => {
    const made = await admin(hub, 'POST', '/admin/keys', { name: 'secretive', scopes: ['node:alpha'] });
    const { key } = (await made.json()) as { key: string };
    const secrets = ['hunter2-correct-horse', 'sk_live_51Habcdefghijklmnop', 'eyJhbGciOiJFZERTQSJ9.payload.sig', key];
    const { client } = await connectClient(t, { url: hub.url, key });
    await client.callTool({
      name: 'alpha__echo',
      arguments: {
        text: 'with secrets',
        password: secrets[0],
        settings: { api_key: secrets[1], authorization: `Bearer ${secrets[2]}` },
      },
    });
    const [row] = await landed({ text: 'with secrets' });
    assert.deepEqual(row?.params, {
      text: 'with secrets',
      password: '[redacted]',
      settings: { api_key: '[redacted]', authorization: '[redacted]' },
    });
    const central = JSON.stringify(await search({ node: 'alpha', limit: '500' }));
    const logs = [...hub.proc.stdout, ...hub.proc.stderr, ...alpha.proc.stdout, ...alpha.proc.stderr].join('\n');
    for (const secret of secrets) {
      assert.ok(!central.includes(secret), 'the central table holds no secret');
      assert.ok(!logs.includes(secret), 'no log line holds a secret');
    }
    // The node's own table, read directly once the node is stopped.
    await alpha.proc.stop();
    const db = await openHomeDb(alpha.home, 'node-db');
    const { rows } = await db.query<{ dump: string }>(
      "SELECT string_agg(t::text, E'\\n') AS dump FROM tool_executions t",
    );
    await db.close();
    assert.ok(rows[0]?.dump.includes('with secrets'));
    for (const secret of secrets) assert.ok(!rows[0]?.dump.includes(secret), 'the node table holds no secret');
    alpha = await alpha.start();
    await nodeUp(hub, 'alpha');
  });

  it('offers mesh__audit_search to principals with the audit scope, and to no one else', async (t) => {
    const keyWith = async (scopes: string[]) => {
      const res = await admin(hub, 'POST', '/admin/keys', { name: `audit-${scopes[0]}`, scopes });
      return ((await res.json()) as { key: string }).key;
    };
    const auditor = await connectClient(t, { url: hub.url, key: await keyWith(['audit', 'node:beta']) });
    assert.ok((await auditor.client.listTools()).tools.some((tool) => tool.name === 'mesh__audit_search'));
    const found = await auditor.client.callTool({
      name: 'mesh__audit_search',
      arguments: { node: 'alpha', text: 'first call', limit: 5 },
    });
    const { events } = found.structuredContent as { events: Row[] };
    assert.deepEqual(
      events.map((e) => [e.node, e.params.text]),
      [['alpha', 'first call']],
    );

    const user = await connectClient(t, { url: hub.url, key: await keyWith(['node:alpha']) });
    assert.ok(!(await user.client.listTools()).tools.some((tool) => tool.name === 'mesh__audit_search'));
    await assert.rejects(
      user.client.callTool({ name: 'mesh__audit_search', arguments: { text: 'first call' } }),
      /unknown tool mesh__audit_search/,
    );
  });

  it('tails new calls as they land, filtered', async (t) => {
    const tail = spawn(process.execPath, [BRAINMESH, 'audit', 'tail', '--node', 'beta', '--json'], {
      env: { PATH: process.env.PATH, BRAINMESH_HUB: hub.url, BRAINMESH_API_KEY: hub.key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => tail.kill('SIGKILL'));
    const lines: Row[] = [];
    createInterface({ input: tail.stdout }).on('line', (l) => lines.push(JSON.parse(l) as Row));
    const errLines: string[] = [];
    createInterface({ input: tail.stderr }).on('line', (l) => errLines.push(l));
    await until(async () => errLines.some((l) => l.startsWith('tailing the audit trail')), 'the tail to be live');

    const { client } = await connectClient(t, hub);
    await client.callTool({ name: 'alpha__echo', arguments: { text: 'not for this tail' } });
    await client.callTool({ name: 'beta__echo', arguments: { text: 'tailed' } });
    const shown = await until(async () => lines.find((l) => l.params.text === 'tailed'), 'the call in the tail');
    assert.equal(shown.node, 'beta');
    assert.ok(
      lines.every((l) => l.node === 'beta'),
      'the filter holds',
    );
    tail.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => tail.once('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    // The hub lets go of a tail whose client left.
    await hub.proc.waitFor<{ msg: string }>((l) => l.msg === 'audit tail ended');
  });

  it('refuses a batch with a forged signature, a broken chain or a gap, and keeps what it has', async () => {
    // The node stopped, so none of its own rows (an earlier test's, still shipping) lands while
    // this test reads where the hub's copy of its chain ends and sends batches after it.
    await alpha.proc.stop();
    const nodeKeys = await KeyRing.open(alpha.home); // the node's own key file: the test may sign as the node
    const status = (await (await admin(hub, 'GET', '/admin/status')).json()) as { hub: { id: string } };
    const hubId = status.hub.id;
    const [newest] = (await search({ node: 'alpha', limit: '1' })).events;
    assert.ok(newest);
    const lag = async () =>
      (
        (await (await admin(hub, 'GET', '/admin/audit/lag')).json()) as {
          nodes: Array<{ node: string; committedSeq: number }>;
        }
      ).nodes.find((n) => n.node === 'alpha')!.committedSeq;
    const before = await lag();
    const { rows } = { rows: [] as AuditEvent[] };
    // An event that would follow what the hub holds, if its predecessor hash were right.
    const event = (seq: number, prevHash: string): AuditEvent => {
      const fields = {
        nodeId: 'alpha',
        seq,
        at: new Date().toISOString(),
        tool: 'echo',
        params: { text: 'forged' },
        response: null,
        error: null,
        durationMs: 1,
        status: 'ok' as const,
        source: 'live' as const,
        principal: 'key:forger0000',
        traceId: 'forged',
      };
      return { ...fields, prevHash, hash: auditHash(prevHash, fields) };
    };
    const send = async (events: AuditEvent[], ring: KeyRing) => {
      const first = events[0]!;
      const last = events[events.length - 1]!;
      const signature = await signAuditBatch(ring, {
        iss: 'alpha',
        aud: hubId,
        first: first.seq,
        last: last.seq,
        prev: first.prevHash,
        head: last.hash,
      });
      const token = await signLinkToken(nodeKeys, { iss: 'alpha', aud: hubId, sub: 'alpha' });
      return fetch(new URL('/links/audit', hub.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ events, signature, nodeHead: last.seq }),
      });
    };
    rows.push(event(before + 1, GENESIS_HASH));
    const forged = await send(rows, await KeyRing.ephemeral());
    assert.equal(forged.status, 422);
    assert.match(((await forged.json()) as { message: string }).message, /signature does not verify/);
    const broken = await send(rows, nodeKeys);
    assert.equal(broken.status, 422);
    assert.match(((await broken.json()) as { message: string }).message, /does not follow the last row the hub holds/);
    const gap = await send([event(before + 5, GENESIS_HASH)], nodeKeys);
    assert.equal(gap.status, 409);
    assert.deepEqual(((await gap.json()) as { details: unknown }).details, { next: before + 1 });
    assert.equal(await lag(), before, 'nothing of a refused batch was kept');
    alpha = await alpha.start();
    await nodeUp(hub, 'alpha');
  });

  it('verify names the first central row that was changed, removed or inserted by hand', async () => {
    const verify = async () => {
      const res = await runCli(hub, ['audit', 'verify']);
      return { ...res, line: res.stdout.split('\n').find((l) => l.startsWith('alpha')) ?? '' };
    };
    const clean = await verify();
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /^NODE\s+ROWS\s+SEQS\s+BATCHES\s+VERDICT\n/);
    assert.match(clean.line, /^alpha\s+\d+\s+1-\d+\s+\d+\s+ok$/);

    /** Stops the hub, changes its table by hand, and starts it again on the same home and port. */
    const tamper = async (change: (db: Db) => Promise<unknown>) => {
      await hub.proc.stop();
      const db = await openHomeDb(hub.home, 'hub-db');
      try {
        await change(db);
      } finally {
        await db.close();
      }
      hub = await startHub(scope, { home: hub.home, port: Number(new URL(hub.url).port) });
    };
    const rowAt = async (db: Db, seq: number) =>
      (
        await db.query<Record<string, unknown>>("SELECT * FROM audit_events WHERE node_id = 'alpha' AND seq = $1", [
          seq,
        ])
      ).rows[0]!;
    let kept: Record<string, unknown> = {};

    await tamper(async (db) => {
      kept = await rowAt(db, 2);
      await db.query(`UPDATE audit_events SET params = '{"text": "never said"}' WHERE node_id = 'alpha' AND seq = 2`);
    });
    let found = await verify();
    assert.equal(found.code, 1);
    assert.match(found.line, /altered at seq 2: seq 2: its content does not match its hash$/);

    await tamper(async (db) => {
      await db.query("UPDATE audit_events SET params = $1::jsonb WHERE node_id = 'alpha' AND seq = 2", [
        JSON.stringify(kept.params),
      ]);
      kept = await rowAt(db, 3);
      await db.query("DELETE FROM audit_events WHERE node_id = 'alpha' AND seq = 3");
    });
    found = await verify();
    assert.equal(found.code, 1);
    assert.match(found.line, /removed at seq 3: seq 3 is missing$/);

    await tamper(async (db) => {
      const columns = Object.keys(kept).filter((c) => c !== 'id');
      await db.query(
        `INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => (c === 'params' || c === 'response' ? JSON.stringify(kept[c]) : kept[c])),
      );
      const { rows } = await db.query<{ seq: string }>(
        "SELECT max(seq) AS seq FROM audit_events WHERE node_id = 'alpha'",
      );
      await db.query(
        `INSERT INTO audit_events (node_id, seq, at, tool, params, duration_ms, status, source, principal, trace_id, prev_hash, hash)
         VALUES ('alpha', $1, now(), 'echo', '{"text": "slipped in"}', 1, 'ok', 'live', 'key:someone', 'x', $2, $2)`,
        [Number(rows[0]!.seq) + 1, 'f'.repeat(64)],
      );
    });
    found = await verify();
    assert.equal(found.code, 1);
    assert.match(found.line, /inserted at seq \d+: seq \d+ is past the last row the node shipped/);

    // Whoever can write the table can also recompute every hash after a change; the node's
    // signatures over each batch are what they cannot remake.
    await tamper(async (db) => {
      await db.query("DELETE FROM audit_events WHERE node_id = 'alpha' AND trace_id = 'x'");
      const { rows } = await db.query<Record<string, unknown>>(
        "SELECT * FROM audit_events WHERE node_id = 'alpha' ORDER BY seq",
      );
      let prev = String(rows[0]!.prev_hash);
      for (const r of rows) {
        const params = Number(r.seq) === 2 ? { text: 'rewritten' } : r.params;
        const hash = auditHash(prev, {
          nodeId: 'alpha',
          seq: Number(r.seq),
          at: new Date(r.at as string).toISOString(),
          tool: String(r.tool),
          params,
          response: r.response,
          error: r.error as string | null,
          durationMs: Number(r.duration_ms),
          status: r.status as 'ok',
          source: r.source as 'live',
          principal: String(r.principal),
          traceId: String(r.trace_id),
        });
        await db.query(
          "UPDATE audit_events SET params = $1::jsonb, prev_hash = $2, hash = $3 WHERE node_id = 'alpha' AND seq = $4",
          [JSON.stringify(params), prev, hash, r.seq],
        );
        prev = hash;
      }
      await db.query("UPDATE audit_chains SET last_hash = $1 WHERE node_id = 'alpha'", [prev]);
    });
    found = await verify();
    assert.equal(found.code, 1);
    const named =
      /altered at seq (\d+): seqs (\d+)-(\d+) differ from what the node signed; their hashes were recomputed$/.exec(
        found.line,
      );
    assert.ok(named, found.line);
    // The signed batch that holds the changed row (seq 2) is named.
    assert.ok(Number(named[2]) <= 2 && Number(named[3]) >= 2, found.line);
  });
});

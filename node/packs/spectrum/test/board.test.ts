import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dbBackends } from '@brainmesh/shared/testing';
import { Board } from '../src/board/board.js';
import { spectrumDb } from './support/spectrum-db.js';

const agent = (principal: string) => ({ principal, role: 'builder' as const });

/** Polls `check` until it holds (or gives up after `ms`): for leases, which end when their time does. */
async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const backend of dbBackends()) {
  describe(`Spectrum's task board on ${backend.name}`, () => {
    it('gives each of 200 tasks to exactly one of two agents claiming at once', async (t) => {
      const db = await spectrumDb(t, backend);
      const board = new Board(db, { leaseSeconds: 600 });
      const created = [];
      for (let i = 0; i < 200; i++)
        created.push((await board.create({ title: `task ${i}`, role: 'builder' }, agent('planner'))).id);
      const claimedBy = new Map<string, number[]>([
        ['key:ana', []],
        ['key:bo', []],
      ]);
      // Each agent runs four claims at a time, as a client with several calls in flight would.
      await Promise.all(
        [...claimedBy].flatMap(([principal, mine]) =>
          Array.from({ length: 4 }, async () => {
            for (;;) {
              const task = await board.claimNext('builder', agent(principal));
              if (task === undefined) return;
              assert.equal(task.claimedBy, principal);
              mine.push(task.id);
            }
          }),
        ),
      );
      const all = [...claimedBy.values()].flat();
      assert.equal(all.length, 200, 'every claim got a task of its own');
      assert.deepEqual(
        [...all].sort((a, b) => a - b),
        [...created].sort((a, b) => a - b),
      );
      for (const [principal, mine] of claimedBy) assert.ok(mine.length > 0, `${principal} claimed none`);
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM task_events WHERE kind = 'claimed'",
      );
      assert.equal(rows[0]!.n, 200);
      assert.equal(await board.claimNext('builder', agent('key:late')), undefined);
    });

    it('returns a task whose lease ran out to the board, and refuses its old holder', async (t) => {
      const db = await spectrumDb(t, backend);
      const board = new Board(db, { leaseSeconds: 1 });
      const task = await board.create({ title: 'write the spec', role: 'builder' }, agent('planner'));
      const told: string[] = [];
      board.listen((e) => told.push(`${e.role}:${e.taskId}:${e.kind}`));
      assert.equal((await board.claimNext('builder', agent('key:ana')))?.id, task.id);
      assert.equal(await board.claimNext('builder', agent('key:bo')), undefined, 'held while the lease runs');
      await until(async () => (await board.expireLeases()).includes(task.id), 'the lease to run out');
      assert.deepEqual(told, [`builder:${task.id}:returned`]);
      assert.equal((await board.get(task.id)).status, 'open');
      await assert.rejects(board.renew(task.id, agent('key:ana')), /is not held by key:ana/);
      const again = await board.claimNext('builder', agent('key:bo'));
      assert.equal(again?.claimedBy, 'key:bo');
      const kinds = (await board.history(task.id)).map((e) => e.kind);
      assert.deepEqual(kinds, ['created', 'claimed', 'lease_expired', 'claimed']);
    });

    it('hands a task to another role, opens what waited for a finished task, and keeps the history', async (t) => {
      const db = await spectrumDb(t, backend);
      const board = new Board(db, { leaseSeconds: 600 });
      const told: string[] = [];
      board.listen((e) => told.push(`${e.role}:${e.kind}`));
      const spec = await board.create({ title: 'spec', role: 'builder' }, agent('planner'));
      const pitch = await board.create({ title: 'pitch', role: 'closer', dependsOn: [spec.id] }, agent('planner'));
      assert.equal(pitch.status, 'blocked');
      assert.deepEqual(told, ['builder:created']);

      const held = await board.claimNext('builder', agent('key:ana'));
      assert.equal(held?.id, spec.id);
      await assert.rejects(
        board.setStatus(spec.id, 'done', '', { principal: 'key:bo', role: 'builder' }),
        /held by key:ana/,
      );
      await board.setStatus(spec.id, 'done', 'shipped', agent('key:ana'));
      assert.equal((await board.get(pitch.id)).status, 'open');
      assert.deepEqual(told, ['builder:created', 'closer:unblocked']);

      const closing = await board.claimNext('closer', { principal: 'key:cy', role: 'closer' });
      assert.equal(closing?.id, pitch.id);
      const handed = await board.handOff(
        pitch.id,
        'operator',
        { done: 'pitched', needed: 'set up hosting' },
        { principal: 'key:cy', role: 'closer' },
      );
      assert.deepEqual([handed.role, handed.status, handed.claimedBy], ['operator', 'open', null]);
      assert.deepEqual(told.at(-1), 'operator:handoff');
      const history = await board.history(pitch.id);
      assert.deepEqual(
        history.map((e) => e.kind),
        ['created', 'unblocked', 'claimed', 'handoff'],
      );
      assert.equal(history.at(-1)!.note, 'done: pitched\nneeded: set up hosting');
      const summary = await board.summary();
      assert.equal(summary.counts.operator.open, 1);
      assert.equal(summary.counts.builder.done, 1);
    });
  });
}

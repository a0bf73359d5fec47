import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createLogger, type Db, isBrainmeshError, migrate, openEmbeddedDb } from '@brainmesh/shared';
import { tempDir } from '@brainmesh/shared/testing';
import { AuditRecorder, type Execution } from '../src/audit/recorder.js';
import { NODE_MIGRATIONS } from '../src/node.js';

const logger = createLogger({ name: 'test', level: 'silent' });

const call = (text: string): Execution => ({
  at: new Date(),
  tool: 'echo',
  params: { text },
  response: { content: [{ type: 'text', text }] },
  error: null,
  durationMs: 1,
  status: 'ok',
  source: 'live',
  principal: 'key:test',
  traceId: `trace-${text}`,
});

async function setup(t: TestContext): Promise<{ db: Db; journalPath: string }> {
  const db = await openEmbeddedDb();
  t.after(() => db.close());
  await migrate(db, NODE_MIGRATIONS);
  const dir = tempDir('journal');
  t.after(dir.remove);
  return { db, journalPath: path.join(dir.dir, 'audit-journal.jsonl') };
}

async function tableRows(db: Db): Promise<Array<{ seq: number; text: string }>> {
  const { rows } = await db.query<{ seq: number; text: string }>(
    "SELECT seq, params->>'text' AS text FROM tool_executions ORDER BY seq",
  );
  return rows;
}

const journalLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('the audit recorder with a journal (embedded storage)', () => {
  it('has a row in the journal when record() resolves, and in the table, journal emptied, once moved', async (t) => {
    const { db, journalPath } = await setup(t);
    // Moved only on flush: the test sees the row between the two steps.
    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    await recorder.open();
    const seq = await recorder.record(call('one'));
    assert.equal(seq, 1);
    assert.deepEqual(
      journalLines(journalPath).map((l) => (JSON.parse(l) as { seq: number }).seq),
      [1],
    );
    assert.deepEqual(await tableRows(db), []);
    assert.equal(recorder.storedSeq, 0);

    await recorder.close();
    assert.deepEqual(await tableRows(db), [{ seq: 1, text: 'one' }]);
    assert.equal(recorder.storedSeq, 1);
    assert.deepEqual(journalLines(journalPath), []);
  });

  it('moves on its own a moment later, and says so to the shipper', async (t) => {
    const { db, journalPath } = await setup(t);
    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 5 });
    await recorder.open();
    t.after(() => recorder.close());
    const stored = new Promise<number>((resolve) => recorder.once('recorded', resolve));
    await Promise.all([recorder.record(call('a')), recorder.record(call('b'))]);
    assert.equal(await stored, 2);
    assert.deepEqual(await tableRows(db), [
      { seq: 1, text: 'a' },
      { seq: 2, text: 'b' },
    ]);
  });

  it('after a crash, moves what the journal holds into the table, drops a line cut short, and goes on from there', async (t) => {
    const { db, journalPath } = await setup(t);
    const dead = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    await dead.open();
    await dead.record(call('a'));
    await dead.record(call('b'));
    // The process died: nothing moved, and its last write was cut short.
    appendFileSync(journalPath, '{"nodeId":"alpha","seq":3,"at":');

    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    await recorder.open();
    assert.deepEqual(await tableRows(db), [
      { seq: 1, text: 'a' },
      { seq: 2, text: 'b' },
    ]);
    assert.deepEqual(journalLines(journalPath), []);
    assert.equal(await recorder.record(call('c')), 3);
    await recorder.close();
    const { rows } = await db.query<{ seq: number; prev_hash: string; hash: string }>(
      'SELECT seq, prev_hash, hash FROM tool_executions ORDER BY seq',
    );
    assert.equal(rows[2]!.prev_hash, rows[1]!.hash, 'the chain goes on from the recovered rows');
  });

  it('after a crash of a node enrolled afresh, goes on from the chain the hub held (its base)', async (t) => {
    const { db, journalPath } = await setup(t);
    const base = { seq: 41, hash: 'a'.repeat(64) };
    const dead = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    await dead.open(base);
    assert.equal(await dead.record(call('a')), 42);

    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath });
    await recorder.open(base);
    t.after(() => recorder.close());
    assert.deepEqual(await tableRows(db), [{ seq: 42, text: 'a' }]);
    assert.equal(recorder.headSeq, 42);
  });

  it('cuts off a line left half-written with nothing before it, so the next rows start lines of their own', async (t) => {
    const { db, journalPath } = await setup(t);
    writeFileSync(journalPath, '{"nodeId":"alpha","seq":1,"at":');
    const first = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    await first.open();
    await first.record(call('a'));
    // Died again before moving anything: the next start reads the journal whole.
    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath });
    await recorder.open();
    t.after(() => recorder.close());
    assert.deepEqual(await tableRows(db), [{ seq: 1, text: 'a' }]);
  });

  it('takes rows the table already has once (moved, then the process died before emptying the journal)', async (t) => {
    const { db, journalPath } = await setup(t);
    const first = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    await first.open();
    await first.record(call('a'));
    await first.record(call('b'));
    const journaled = readFileSync(journalPath, 'utf8');
    await first.close();
    writeFileSync(journalPath, journaled);

    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath });
    await recorder.open();
    t.after(() => recorder.close());
    assert.deepEqual(await tableRows(db), [
      { seq: 1, text: 'a' },
      { seq: 2, text: 'b' },
    ]);
  });

  it('refuses to start on a journal that does not follow its table, naming the file', async (t) => {
    const { db, journalPath } = await setup(t);
    const elsewhere = await setup(t);
    // A journal written against another table: its first row follows nothing this table holds.
    const other = new AuditRecorder(elsewhere.db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    await other.open();
    await other.record(call('x'));
    const plain = new AuditRecorder(db, 'alpha', logger);
    await plain.open();
    await plain.record(call('y'));

    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath });
    await assert.rejects(recorder.open(), (err: unknown) => {
      assert.ok(isBrainmeshError(err, 'AUDIT_JOURNAL_CORRUPT'));
      assert.match(err.message, /audit-journal\.jsonl/);
      return true;
    });
  });

  it('refuses a line that is not an audit event', async (t) => {
    const { db, journalPath } = await setup(t);
    writeFileSync(journalPath, '{"not":"an event"}\n');
    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath });
    await assert.rejects(recorder.open(), (err: unknown) => isBrainmeshError(err, 'AUDIT_JOURNAL_CORRUPT'));
  });

  it('refuses a row the disk has no room for, leaves no half line, and goes on from there when there is room', async (t) => {
    // A filesystem of its own, 64 KiB, then filled. Mounting needs root, as CI has (the link
    // tests make network namespaces too).
    const dir = tempDir('full-disk');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir.dir]);
    const db = await openEmbeddedDb();
    await migrate(db, NODE_MIGRATIONS);
    const journalPath = path.join(dir.dir, 'audit-journal.jsonl');
    const recorder = new AuditRecorder(db, 'alpha', logger, { journalPath, moveMs: 3_600_000 });
    // In this order: the journal's file is let go before its filesystem goes.
    t.after(async () => {
      await recorder.close();
      await db.close();
      execFileSync('umount', [dir.dir]);
      dir.remove();
    });
    await recorder.open();
    assert.equal(await recorder.record(call('fits')), 1);

    const filler = path.join(dir.dir, 'filler');
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(4096));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    // More than the journal's last page has left: written in part or not at all, either way refused.
    await assert.rejects(recorder.record(call('x'.repeat(16_384))), /ENOSPC|wrote \d+ of \d+ bytes/);
    const text = readFileSync(journalPath, 'utf8');
    assert.ok(text.endsWith('\n'), 'the journal ends with a whole line');
    assert.deepEqual(
      journalLines(journalPath).map((l) => (JSON.parse(l) as { seq: number }).seq),
      [1],
    );

    rmSync(filler);
    // The refused row took no place in the chain: the next one follows the last written.
    assert.equal(await recorder.record(call('after')), 2);
    await recorder.close();
    assert.deepEqual(await tableRows(db), [
      { seq: 1, text: 'fits' },
      { seq: 2, text: 'after' },
    ]);
  });
});

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { type Db, migrate } from '@brainmesh/shared';
import { dbBackends } from '@brainmesh/shared/testing';
import { HUB_MIGRATIONS } from '../src/hub.js';
import { FormKeys } from '../src/oauth/form-keys.js';

const HOUR = 3_600_000;
const LIFE = 12 * HOUR;
/** Midway through an hour, so a period boundary is where the test puts it. */
const T0 = Date.UTC(2026, 11, 2, 9, 30);

for (const backend of dbBackends()) {
  describe(`the OAuth form keys (${backend.name})`, () => {
    const setup = async (t: { after(fn: () => unknown): void }) => {
      const opened = await backend.open();
      t.after(opened.dispose);
      await migrate(opened.value, HUB_MIGRATIONS);
      let now = T0;
      const clock = {
        now: () => now,
        set: (ms: number) => {
          now = ms;
        },
      };
      const keys = (db: Db = opened.value) => new FormKeys(db, { rotateMs: HOUR, maxLifeMs: LIFE, clock: clock.now });
      return { db: opened.value, clock, keys };
    };

    it('seals and checks; another payload, a changed seal or an expired one does not check', async (t) => {
      const { clock, keys } = await setup(t);
      const k = keys();
      const sealed = await k.seal('form:a', HOUR);
      assert.match(sealed, /^\d+\.\d+\.[A-Za-z0-9_-]{43}$/);
      assert.equal(await k.check('form:a', sealed), true);
      assert.equal(await k.check('form:b', sealed), false);
      const [kid, until, mac] = sealed.split('.') as [string, string, string];
      assert.equal(await k.check('form:a', `${kid}.${Number(until) + 1}.${mac}`), false, 'a longer life');
      // A changed first character: the last one of 43 carries 2 unused bits, so changing it to
      // 'A' left the MAC's bytes as they were one time in sixteen.
      const changed = `${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
      assert.equal(await k.check('form:a', `${kid}.${until}.${changed}`), false);
      for (const junk of [
        '',
        '...',
        'a.b.c',
        `${kid}.${until}`,
        `${kid}.${until}.${mac}.x`,
        `99999999999999.${until}.${mac}`,
      ]) {
        assert.equal(await k.check('form:a', junk), false, junk);
      }
      clock.set(Number(until));
      assert.equal(await k.check('form:a', sealed), false, 'expired');
      await assert.rejects(k.seal('x', LIFE + 1), RangeError);
    });

    it('rotates: a new key each period, the old one verifying through the life of what it signed, then retired', async (t) => {
      const { db, clock, keys } = await setup(t);
      const k = keys();
      const cookie = await k.seal('session:ana', LIFE);
      const form = await k.seal('form:x', HOUR);
      const oldKid = cookie.split('.')[0]!;

      clock.set(T0 + HOUR); // the next period: a new key signs
      const next = await k.seal('session:ana', LIFE);
      assert.notEqual(next.split('.')[0], oldKid, 'a new key');
      assert.equal(await k.check('session:ana', cookie), true, 'the old key still verifies');
      assert.equal(await k.check('form:x', form), false, 'the form itself lived an hour');

      // A hub started now (a restart, or another replica) verifies the old key's cookie too.
      clock.set(T0 + LIFE - 1);
      assert.equal(await keys().check('session:ana', cookie), true, 'within its grace');
      assert.equal(await k.check('session:ana', cookie), true);

      // Past the old key's grace (the end of its period plus the longest life): retired. A seal
      // made with its secret and a life still ahead is refused, so retirement stands on its own.
      const { rows } = await db.query<{ secret: string; verifies_until: Date }>(
        'SELECT secret, verifies_until FROM oauth_form_keys WHERE kid = $1',
        [oldKid],
      );
      const retiredAt = new Date(rows[0]!.verifies_until).getTime();
      assert.equal(retiredAt, Number(oldKid) + HOUR + LIFE);
      clock.set(retiredAt);
      const until = retiredAt + HOUR;
      const forged = createHmac('sha256', Buffer.from(rows[0]!.secret, 'base64url'))
        .update(`${oldKid}.${until}.session:ana`)
        .digest('base64url');
      assert.equal(await k.check('session:ana', `${oldKid}.${until}.${forged}`), false, 'retired');
      assert.equal(await keys().check('session:ana', `${oldKid}.${until}.${forged}`), false, 'retired everywhere');
      assert.equal(await k.check('session:ana', next), true, 'the newer key verifies on');

      // The next rotation deletes what is retired.
      clock.set(retiredAt + HOUR);
      await k.seal('form:y', HOUR);
      const left = await db.query('SELECT kid FROM oauth_form_keys WHERE kid = $1', [oldKid]);
      assert.equal(left.rowCount, 0);
    });

    it('replicas reaching a new period together write one key and sign with it', async (t) => {
      const { db, keys } = await setup(t);
      const [a, b] = [keys(), keys()];
      const seals = await Promise.all([a.seal('p', HOUR), b.seal('p', HOUR), a.seal('q', HOUR), b.seal('q', HOUR)]);
      assert.equal(new Set(seals.map((s) => s.split('.')[0])).size, 1);
      assert.equal(seals[0], seals[1], 'the same key, the same clock: the same seal');
      assert.equal(await b.check('q', seals[2]!), true);
      assert.equal((await db.query('SELECT kid FROM oauth_form_keys')).rowCount, 1);
    });
  });
}

import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { quietLogger } from '@brainmesh/node/kit/testing';
import { type Db, dropPackStorage, migrate, openPackDb, packStorage } from '@brainmesh/shared';
import type { Backend } from '@brainmesh/shared/testing';
import { SPECTRUM_MIGRATIONS } from '../../src/index.js';

/**
 * Spectrum's tables on one storage backend, as a node makes them: the pack's own schema and
 * role, pg_trgm installed by the node's handle, the pack's migrations run through its own.
 */
export async function spectrumDb(t: TestContext, backend: Backend<Db>): Promise<Db> {
  const { value: nodeDb, dispose } = await backend.open();
  const schema = nodeDb.kind === 'embedded' ? undefined : `n${Math.random().toString(36).slice(2, 10)}`;
  const storage = packStorage('spectrum', schema);
  const db = await openPackDb(nodeDb, storage, { extensions: ['pg_trgm'] });
  t.after(async () => {
    if (schema !== undefined) await dropPackStorage(nodeDb, storage);
    await dispose();
  });
  await migrate(db, fileURLToPath(SPECTRUM_MIGRATIONS), quietLogger);
  return db;
}

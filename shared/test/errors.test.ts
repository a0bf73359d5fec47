import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BrainmeshError, ErrorCodes, publicError } from '../src/index.js';

const docs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'errors.md');

describe('errors', () => {
  it('are all documented in docs/errors.md with their HTTP status', () => {
    const text = readFileSync(docs, 'utf8');
    for (const [code, spec] of Object.entries(ErrorCodes)) {
      assert.match(
        text,
        new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`),
        `${code} is missing from docs/errors.md`,
      );
    }
  });

  it('carry code, status, JSON-RPC code and cause', () => {
    const cause = new Error('socket hang up');
    const err = new BrainmeshError('DB_UNAVAILABLE', 'cannot reach Postgres', { cause });
    assert.equal(err.status, 503);
    assert.equal(err.rpcCode, -32603);
    assert.equal(err.cause, cause);
  });

  it('show a client our own message but nothing of an unexpected fault', () => {
    assert.deepEqual(
      publicError(new BrainmeshError('INVALID_INPUT', 'port: expected number', { details: { field: 'port' } })),
      { code: 'INVALID_INPUT', message: 'port: expected number', details: { field: 'port' } },
    );
    assert.deepEqual(publicError(new Error('password authentication failed for user "admin"')), {
      code: 'INTERNAL',
      message: 'internal error',
    });
  });
});

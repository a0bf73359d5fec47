import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, redactSecrets } from '../src/index.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes JSON lines with the name, message and trace id', () => {
    const out = capture();
    const log = createLogger({ name: 'hub', format: 'json', destination: out.stream }).child({ traceId: 'abc123' });
    log.info({ node: 'medtainer' }, 'node enrolled');
    const [line] = out.lines();
    assert.equal(line?.name, 'hub');
    assert.equal(line?.msg, 'node enrolled');
    assert.equal(line?.traceId, 'abc123');
    assert.equal(line?.node, 'medtainer');
  });

  it('never writes secret fields, at any depth', () => {
    const out = capture();
    const log = createLogger({ name: 'hub', format: 'json', destination: out.stream });
    log.info(
      {
        req: { headers: { authorization: 'Bearer eyJhbGciOi.secret', 'x-api-key': 'bm_live_123', accept: '*/*' } },
        params: { password: 'hunter2', nested: { apiKey: 'k-1', clientSecret: 's-1', refresh_token: 'r-1' } },
        note: 'Bearer abc.def.ghi',
      },
      'request',
    );
    const text = JSON.stringify(out.lines());
    for (const secret of ['eyJhbGciOi', 'bm_live_123', 'hunter2', 'k-1', 's-1', 'r-1', 'abc.def.ghi']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.ok(text.includes('*/*'), 'harmless fields stay');
  });
});

describe('redactSecrets', () => {
  it('hides extra named fields and survives cycles', () => {
    const cyclic: Record<string, unknown> = { ssn: '123-45-6789', name: 'Ana' };
    cyclic.self = cyclic;
    assert.deepEqual(redactSecrets(cyclic, ['SSN']), { ssn: '[redacted]', name: 'Ana', self: '[circular]' });
  });

  it('hides a domain transfer code however it is spelt', () => {
    assert.deepEqual(redactSecrets({ authCode: 'X1', auth_code: 'X2', domain: 'a.com' }), {
      authCode: '[redacted]',
      auth_code: '[redacted]',
      domain: 'a.com',
    });
  });
});

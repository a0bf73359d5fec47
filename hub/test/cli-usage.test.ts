import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keysCommand } from '../src/cli/keys.js';
import { nodesCommand } from '../src/cli/nodes.js';
import { scopeSchema } from '../src/scopes.js';

async function help(command: typeof keysCommand, argv: string[]): Promise<string> {
  let out = '';
  const code = await command(argv, {}, { out: (s) => (out += s), err: (s) => (out += s) });
  assert.equal(code, 0);
  return out;
}

describe('command usage', () => {
  it('keys create --help lists every kind of scope a key can have', async () => {
    const usage = await help(keysCommand, ['create', '--help']);
    // The schema's own description of a scope is the list to keep in step with.
    const described = scopeSchema.safeParse('bogus').error?.issues[0]?.message ?? '';
    const kinds = described
      .replace(/^a scope is /, '')
      .split(/, | or /)
      .map((k) => k.split(':')[0]!);
    assert.deepEqual(kinds, ['admin', 'audit', 'node', 'tools', 'read']);
    const section = usage.slice(usage.indexOf('scopes:'), usage.indexOf('flags:'));
    for (const kind of kinds) assert.match(section, new RegExp(`\\b${kind}\\b`), `${kind} missing from:\n${section}`);
  });

  it('nodes --help names reset-circuit', async () => {
    assert.match(await help(nodesCommand, ['--help']), /^ {2}reset-circuit NAME {2,}close a node's circuit now/m);
  });
});

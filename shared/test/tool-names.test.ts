import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLIENT_NAME_PATTERN, namespacedName } from '../src/index.js';

describe('namespaced tool names', () => {
  it('join namespace and tool with a double underscore', () => {
    assert.equal(namespacedName('medtainer', 'search_contacts'), 'medtainer__search_contacts');
  });

  it('turn every character outside [A-Za-z0-9_-] into _', () => {
    assert.equal(namespacedName('dev.mcp', 'gohighlevel.get_insights'), 'dev_mcp__gohighlevel_get_insights');
  });

  it('cut long names to 64 with a stable hash suffix that keeps distinct names distinct', () => {
    const ns = 'a-very-long-node-name-that-goes-on-and-on';
    const a = namespacedName(ns, 'trigger-long-running-operation');
    const b = namespacedName(ns, 'trigger-long-running-operation-2');
    assert.equal(a.length, 64);
    assert.match(a, CLIENT_NAME_PATTERN);
    assert.equal(a, namespacedName(ns, 'trigger-long-running-operation'));
    assert.notEqual(a, b);
    // Names that sanitise alike do not collide once hashed either.
    assert.notEqual(namespacedName(ns, `${'x'.repeat(30)}.y`), namespacedName(ns, `${'x'.repeat(30)}_y`));
  });
});

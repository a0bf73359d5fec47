import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Access, scopesSchema } from '../src/scopes.js';

const ro = { annotations: { readOnlyHint: true } };
const rw = { annotations: { destructiveHint: true } };

describe('scopes', () => {
  it('admin allows everything', () => {
    const a = new Access(['admin']);
    assert.ok(a.isAdmin && a.allowsTool('medtainer__droplet_action', 'medtainer', rw) && a.allowsNode('spectrum'));
  });

  it('an admin-only tool is seen and called with admin alone, whatever else is granted', () => {
    const adminOnly = { annotations: { readOnlyHint: true }, _meta: { 'io.brainmesh/adminOnly': true } };
    assert.ok(new Access(['admin']).allowsTool('devmcp__mesh_status', 'devmcp', adminOnly));
    for (const scopes of [['node:devmcp'], ['tools:*'], ['read:devmcp__*'], ['audit', 'tools:devmcp__mesh_status']]) {
      assert.ok(!new Access(scopes).allowsTool('devmcp__mesh_status', 'devmcp', adminOnly), scopes.join());
    }
    assert.equal(Access.neededFor('devmcp__mesh_status', 'devmcp', adminOnly), 'admin');
    assert.equal(Access.neededFor('devmcp__echo', 'devmcp', {}), 'tools:devmcp__echo or node:devmcp');
  });

  it('node:NAME allows that node only', () => {
    const a = new Access(['node:medtainer']);
    assert.ok(a.allowsTool('medtainer__droplet_action', 'medtainer', rw));
    assert.ok(!a.allowsTool('spectrum__plan', 'spectrum', ro));
    assert.ok(a.allowsNode('medtainer') && !a.allowsNode('spectrum') && !a.isAdmin);
  });

  it('tools:GLOB matches hub names, with * inside a name only', () => {
    const a = new Access(['tools:medtainer__gohighlevel_*']);
    assert.ok(a.allowsTool('medtainer__gohighlevel_search_contacts', 'medtainer', rw));
    assert.ok(!a.allowsTool('medtainer__godaddy_list_domains', 'medtainer', ro));
    assert.ok(!a.allowsTool('xmedtainer__gohighlevel_x', 'xmedtainer', ro), 'anchored at the start');
    assert.ok(a.allowsNode('medtainer') && !a.allowsNode('spectrum'));
  });

  it('read:GLOB allows read-only tools only', () => {
    const a = new Access(['read:*']);
    assert.ok(a.allowsTool('medtainer__list_droplets', 'medtainer', ro));
    assert.ok(!a.allowsTool('medtainer__droplet_action', 'medtainer', rw));
    assert.ok(!a.allowsTool('medtainer__unannotated', 'medtainer', {}), 'no hint means it may write');
  });

  it('audit reads the audit trail and opens no tool or node', () => {
    const a = new Access(['audit']);
    assert.ok(a.readsAudit && !a.isAdmin);
    assert.ok(!a.allowsTool('medtainer__list_droplets', 'medtainer', ro) && !a.allowsNode('medtainer'));
    assert.ok(new Access(['admin']).readsAudit && !new Access(['node:medtainer', 'tools:*']).readsAudit);
  });

  it('grants nothing without a scope that says so', () => {
    const a = new Access(['node:spectrum']);
    assert.ok(!a.allowsTool('medtainer__x', 'medtainer', ro) && !a.allowsNode('medtainer'));
  });

  it('validates scope strings at the edge, naming what a scope may be', () => {
    assert.ok(scopesSchema.safeParse(['admin', 'node:medtainer', 'tools:a__b_*', 'read:*']).success);
    const bad = scopesSchema.safeParse(['tools:a.b']);
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /a scope is admin, audit, node:NAME, tools:GLOB or read:GLOB/);
    assert.equal(scopesSchema.safeParse([]).success, false);
  });
});

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { watchNodesUp } from '../src/nodes-up.js';

/** A mesh as the watcher sees it: links whose state a test sets, and `changed` when it says so. */
function fakeMesh() {
  const events = new EventEmitter<{ changed: [] }>();
  const links = new Map<string, { status: string; record: { url: string | null }; lastSeen: Date | undefined }>();
  return {
    links,
    on: (e: 'changed', fn: () => void) => events.on(e, fn),
    off: (e: 'changed', fn: () => void) => events.off(e, fn),
    set(id: string, status: string, url: string, lastSeen?: number) {
      links.set(id, { status, record: { url }, lastSeen: lastSeen === undefined ? undefined : new Date(lastSeen) });
      events.emit('changed');
    },
  };
}

describe('nodes coming up (what the hub tells brainmesh up)', () => {
  it('names the nodes up already, then each node as its link comes up, and again after it was down', () => {
    const mesh = fakeMesh();
    mesh.links.set('a', { status: 'up', record: { url: 'http://a' }, lastSeen: new Date(1) });
    const seen: string[] = [];
    const stop = watchNodesUp(mesh, (node) => seen.push(node));
    assert.deepEqual(seen, ['a']);
    mesh.set('b', 'connecting', 'http://b');
    mesh.set('b', 'up', 'http://b', 2);
    mesh.set('a', 'up', 'http://a', 3);
    assert.deepEqual(seen, ['a', 'b'], 'a health check that keeps a node up is not news');
    mesh.set('b', 'down', 'http://b', 2);
    mesh.set('b', 'up', 'http://b', 4);
    assert.deepEqual(seen, ['a', 'b', 'b']);
    stop();
    mesh.set('b', 'down', 'http://b', 4);
    mesh.set('b', 'up', 'http://b', 5);
    assert.deepEqual(seen, ['a', 'b', 'b']);
  });

  it('names a node back at a new address once the link has connected there, though it never went down', () => {
    const mesh = fakeMesh();
    const seen: string[] = [];
    watchNodesUp(mesh, (node) => seen.push(node));
    mesh.set('a', 'up', 'http://a:1', 1);
    // The node restarted on another port and announced it before a health check saw it go.
    mesh.set('a', 'up', 'http://a:2', 1);
    assert.deepEqual(seen, ['a'], 'not yet: the link is still reconnecting');
    mesh.set('a', 'up', 'http://a:2', 2);
    assert.deepEqual(seen, ['a', 'a']);
  });
});

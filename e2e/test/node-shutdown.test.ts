import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Spawned } from '@brainmesh/shared/testing';
import { connectClient, nodeUp, startHub, startNode, type TestContext } from '../support/mesh.js';
import { alive, commandLine, groupMembers, killGroup } from '../support/processes.js';

const STUBBORN = fileURLToPath(new URL('../support/stubborn-mcp-server.mjs', import.meta.url));

/** How long a node may take to stop, whatever its mounted servers do. */
const DEADLINE_MS = 10_000;

/**
 * Ctrl-C in a terminal is SIGINT to the whole process group: the node and every server it
 * mounted get it at once. The node must stop on that one signal, restart nothing, and leave no
 * mounted server behind.
 */
describe('a node stopped by Ctrl-C', { timeout: 120_000 }, () => {
  async function nodeWithMount(t: TestContext, name: string, mount: object) {
    const hub = await startHub(t);
    const node = await startNode(t, hub, { name, packs: ['devtools'], mounts: [mount], detached: true });
    const pgid = node.proc.child.pid!;
    t.after(() => killGroup(pgid));
    await nodeUp(hub, name, 60_000);
    await node.proc.waitFor<{ msg: string }>((l) => l.msg === 'mount started');
    const mounted = groupMembers(pgid).filter((pid) => pid !== pgid);
    assert.ok(mounted.length > 0, 'the mounted server runs in the node’s process group');
    return { hub, node, pgid, mounted };
  }

  /**
   * The node's exit code, or a failure when it is still running `ms` after the signal, with what
   * it logged since (`from`: its stdout line count when the signal was sent).
   */
  async function exitWithin(proc: Spawned, from: number, ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const said = proc.stdout.slice(from).map((l) => (JSON.parse(l) as { msg: string }).msg);
        reject(new Error(`still running ${ms / 1000} s after one SIGINT; it logged: ${said.join(' | ')}`));
      }, ms);
    });
    try {
      return await Promise.race([proc.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('stops on one SIGINT to its process group, restarting no mounted server and leaving none', async (t) => {
    const { node, pgid, mounted } = await nodeWithMount(t, 'ctrlc', {
      transport: 'stdio',
      name: 'everything',
      command: 'mcp-server-everything',
      args: ['stdio'],
      prefix: 'everything',
    });
    assert.ok(
      mounted.some((pid) => commandLine(pid).includes('mcp-server-everything')),
      mounted.map(commandLine).join('\n'),
    );
    const signalled = node.proc.stdout.length;
    const sent = performance.now();
    process.kill(-pgid, 'SIGINT');
    assert.equal(await exitWithin(node.proc, signalled, DEADLINE_MS), 0);
    t.diagnostic(`exited ${Math.round(performance.now() - sent)} ms after the signal`);
    assert.deepEqual(groupMembers(pgid), [], 'no mounted server (first or restarted) outlives the node');
    const after = node.proc.stdout.slice(signalled).map((l) => JSON.parse(l) as { msg: string });
    assert.deepEqual(
      after.filter((l) => l.msg === 'mount started' || l.msg.startsWith('mount exited')),
      [],
      'nothing is restarted once shutdown has begun',
    );
  });

  it('stops in time, with a call in flight, though a mounted server ignores SIGINT, SIGTERM and EOF, and kills it', async (t) => {
    const { hub, node, pgid, mounted } = await nodeWithMount(t, 'stubborn', {
      transport: 'stdio',
      name: 'stubborn',
      command: process.execPath,
      args: [STUBBORN],
    });
    // A call in flight that will never be answered, as a client may have when Ctrl-C comes.
    const { client } = await connectClient(t, hub);
    void client.callTool({ name: 'stubborn__hang', arguments: {} }).catch(() => {});
    await node.proc.waitFor<{ msg: string; stderr?: string }>(
      (l) => l.msg === 'mount stderr' && l.stderr!.includes('hang called'),
    );
    const signalled = node.proc.stdout.length;
    const sent = performance.now();
    process.kill(-pgid, 'SIGINT');
    // Closed in time: the mount's close ends its stdin, then SIGTERMs, then SIGKILLs it (about 4 s).
    assert.equal(await exitWithin(node.proc, signalled, DEADLINE_MS), 0, node.proc.stderr.join('\n'));
    t.diagnostic(`exited ${Math.round(performance.now() - sent)} ms after the signal`);
    for (const pid of mounted) assert.equal(alive(pid), false, `mounted server ${pid} outlived the node`);
    assert.deepEqual(groupMembers(pgid), []);
  });
});

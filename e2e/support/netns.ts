import { execFileSync } from 'node:child_process';

/**
 * A test host of our own: a Linux network namespace joined to this one by a veth pair. A process
 * started in it (`prefix` before its command) has its own loopback, which nothing outside can
 * reach, and reaches this namespace at `hostIp` only. Needs root (CAP_NET_ADMIN), as CI has.
 */
export interface TestHost {
  name: string;
  /** This namespace's end of the pair: where a process inside reaches us. */
  hostIp: string;
  /** The namespace's own end. */
  innerIp: string;
  /** Put before a command to run it inside: `ip netns exec <name>`. */
  prefix: string[];
  remove(): void;
}

let made = 0;

export function createTestHost(): TestHost {
  made += 1;
  const tag = `${process.pid % 10_000}x${made}`;
  const name = `bm${tag}`;
  // A /30 of its own in 10.213.0.0/16, from the pid, so parallel test files rarely meet.
  const block = ((process.pid * 7 + made * 13) % 16_000) * 4;
  const hostIp = `10.213.${Math.floor(block / 256) % 256}.${(block % 256) + 1}`;
  const innerIp = `10.213.${Math.floor(block / 256) % 256}.${(block % 256) + 2}`;
  const outer = `vb${tag}a`;
  const inner = `vb${tag}b`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ip('netns', 'add', name);
  try {
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', outer);
    ip('link', 'set', outer, 'up');
    ip('-n', name, 'addr', 'add', `${innerIp}/30`, 'dev', inner);
    ip('-n', name, 'link', 'set', inner, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (err) {
    ip('netns', 'del', name);
    throw err;
  }
  return {
    name,
    hostIp,
    innerIp,
    prefix: ['ip', 'netns', 'exec', name],
    remove: () => {
      try {
        ip('link', 'del', outer);
      } catch {
        // Gone with the namespace already.
      }
      ip('netns', 'del', name);
    },
  };
}

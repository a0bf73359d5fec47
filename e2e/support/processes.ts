/**
 * What is running, read from /proc: for asserting that a process left nothing behind, however
 * its children were started and whoever reaped them.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface Stat {
  pid: number;
  ppid: number;
  pgid: number;
  zombie: boolean;
}

function stats(): Stat[] {
  const found: Stat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after its last ")" do not.
      const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      found.push({ pid: Number(entry), ppid: Number(ppid), pgid: Number(pgid), zombie: state === 'Z' });
    } catch {
      // gone between readdir and read
    }
  }
  return found;
}

/** Every process below `pid` (children of children included). */
export function descendants(pid: number): number[] {
  const all = stats();
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const s of all) {
      if (s.ppid === parent) {
        found.push(s.pid);
        walk(s.pid);
      }
    }
  };
  walk(pid);
  return found;
}

/**
 * The live processes of process group `pgid`: what a Ctrl-C to that group reaches. Still found
 * after their parent is gone and they were handed to init.
 */
export function groupMembers(pgid: number): number[] {
  return stats()
    .filter((s) => s.pgid === pgid && !s.zombie)
    .map((s) => s.pid);
}

export function alive(pid: number): boolean {
  try {
    return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** The command line of `pid`, its arguments joined by spaces ('' once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** SIGKILL to a whole process group, for cleanup; no error when it is already gone. */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * The TCP ports `pid` and the processes below it listen on (IPv4 and IPv6), from the kernel's
 * socket tables matched against each process's open sockets: what the machine would accept
 * connections on for them, whatever their logs say.
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const p of [pid, ...descendants(pid)]) {
    try {
      for (const fd of readdirSync(`/proc/${p}/fd`)) {
        try {
          const target = readlinkSync(`/proc/${p}/fd/${fd}`);
          const m = /^socket:\[(\d+)\]$/.exec(target);
          if (m) inodes.add(m[1]!);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is f[1] ("ADDR:PORT" in hex), st is f[3] (0A: LISTEN), inode is f[9].
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      ports.add(Number.parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

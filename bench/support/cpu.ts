/**
 * CPU time of processes, read from /proc/<pid>/stat (utime + stime, all threads of the process),
 * so a benchmark can charge each process its share of a measured window. Linux only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of the /proc counters: usually 100, so one tick is 10 ms. */
export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Stat {
  comm: string;
  ticks: number;
}

function readStat(pid: number | string): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone between listing and reading
  }
  // The command name is in parentheses and may itself hold spaces or parentheses: split after the last one.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // Fields 14 and 15 of the line (utime, stime) are at 11 and 12 once pid and comm are cut off.
  return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
}

/**
 * Something whose CPU is measured: one process, every process of a command (postgres backends),
 * or the whole machine (to tell how much of it went to processes outside the benchmark).
 */
export type CpuSource =
  | { label: string; pid: number }
  | { label: string; command: string }
  | { label: string; machine: true };

/** CPU milliseconds used so far by each source, keyed by process so a diff can tell new processes from old. */
export type CpuSnapshot = Map<string, Map<number | string, number>>;

export function snapshot(sources: readonly CpuSource[]): CpuSnapshot {
  const byCommand = new Map<string, Map<string, number>>();
  const wanted = new Set(sources.flatMap((s) => ('command' in s ? [s.command] : [])));
  if (wanted.size > 0) {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      const stat = readStat(pid);
      if (stat === undefined || !wanted.has(stat.comm)) continue;
      const seen = byCommand.get(stat.comm) ?? new Map<string, number>();
      seen.set(pid, ticksToMs(stat.ticks));
      byCommand.set(stat.comm, seen);
    }
  }
  const out: CpuSnapshot = new Map();
  for (const source of sources) {
    if ('pid' in source) {
      const stat = readStat(source.pid);
      out.set(source.label, new Map(stat === undefined ? [] : [[source.pid, ticksToMs(stat.ticks)]]));
    } else if ('machine' in source) {
      out.set(source.label, new Map([['all', machineBusyMs()]]));
    } else {
      out.set(source.label, byCommand.get(source.command) ?? new Map());
    }
  }
  return out;
}

/**
 * CPU milliseconds each source used between two snapshots. A process that appeared in between
 * counts from zero (it started within the window); one that exited is lost with its last ticks.
 */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const [label, processes] of after) {
    const earlier = before.get(label) ?? new Map();
    let ms = 0;
    for (const [pid, now] of processes) ms += now - (earlier.get(pid) ?? 0);
    out.set(label, ms);
  }
  return out;
}

/** Every core's busy time: the first line of /proc/stat, less idle and iowait (guest time is already in user). */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((sum, n) => sum + n, 0);
  return ticksToMs(total - (fields[3] ?? 0) - (fields[4] ?? 0));
}

function ticksToMs(ticks: number): number {
  return (ticks * 1000) / CLOCK_TICKS;
}

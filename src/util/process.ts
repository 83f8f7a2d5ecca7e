/**
 * Is a process still the one we knew? A pid alone can be reused, so the process's start time
 * (Linux /proc) is compared with when it was known to run.
 */
import { readFileSync } from 'node:fs';

/** When process `pid` started, in ms since the epoch; undefined when it does not exist or /proc cannot tell. */
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22, starttime, in clock ticks after boot
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'))?.[1];
    if (!Number.isFinite(ticks) || btime === undefined) return undefined;
    return Number(btime) * 1000 + (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** True when `pid` no longer runs, or a later process has its number: it did run at `knownAt`. */
export function processGone(pid: number, knownAt: number): boolean {
  const started = processStartMs(pid);
  // btime has one-second resolution: allow for it.
  return started === undefined || started > knownAt + 2000;
}

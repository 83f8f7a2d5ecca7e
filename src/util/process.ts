/**
 * Processes as /proc tells them: is a process still the one we knew (a pid alone can be reused,
 * so its start time is compared with when it was known to run), and is it stopped.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** When process `pid` started, in ms since the epoch; undefined when it does not exist or /proc cannot tell. */
export function processStartMs(pid: number): number | undefined {
  try {
    const fields = statFields(pid) ?? [];
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

/** The fields of /proc/PID/stat after the command name (field 3, the state, first); undefined when gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True when `pid` is stopped by a signal (job control) or a tracer. */
export function processStopped(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === 'T' || state === 't';
}

/** This process's process group (its job, when a shell with job control started it). */
export function ownProcessGroup(): number | undefined {
  const pgrp = Number(statFields(process.pid)?.[2]);
  return Number.isInteger(pgrp) && pgrp > 0 ? pgrp : undefined;
}

/**
 * True when every process of process group `pgrp` but `self` has stopped, or ignores SIGTSTP
 * (a supervisor that outlives job control): the job has come to rest.
 */
export function groupStopped(pgrp: number, self: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return true;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (pid === self) continue;
    const fields = statFields(pid);
    if (fields === undefined || Number(fields[2]) !== pgrp) continue;
    const state = fields[0];
    if (state === 'T' || state === 't' || state === 'Z' || ignoresStop(pid)) continue;
    return false;
  }
  return true;
}

/** Does `pid` ignore SIGTSTP (SigIgn in /proc/PID/status, signal 20 = bit 19)? */
function ignoresStop(pid: number): boolean {
  try {
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << 19n)) !== 0n;
  } catch {
    return true;
  }
}

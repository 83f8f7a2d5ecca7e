/**
 * Pipes between two processes of this agent: a pipeline whose commands both run here gets a
 * real pipe, so its bytes never leave the machine. The first Exec that names a pipe makes it —
 * a FIFO opened at both ends and removed at once, which is an anonymous pipe by another name
 * (Node cannot call pipe(2)) — and each Exec takes its end for its child. The agent's copy of
 * an end closes once that child has started; an end nobody takes within a bound is closed, so
 * the process at the other end sees the end of file or EPIPE instead of waiting for ever.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long the second end of a pipe may take to be claimed (its Exec is already sent). */
const UNCLAIMED_MS = 30_000;

interface Pair {
  r: number | undefined;
  w: number | undefined;
  readonly timer: NodeJS.Timeout;
}

const pairs = new Map<string, Pair>();

function makePipe(): { r: number; w: number } {
  const dir = mkdtempSync(join(tmpdir(), 'mproxy-pipe-'));
  const path = join(dir, 'p');
  try {
    if (spawnSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' }).status !== 0) throw new Error('mkfifo failed');
    // Held read-write while the two ends open: neither open waits for the other side.
    const hold = openSync(path, constants.O_RDWR);
    const r = openSync(path, constants.O_RDONLY);
    const w = openSync(path, constants.O_WRONLY);
    closeSync(hold);
    return { r, w };
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // mkfifo failed: nothing to remove.
    }
    rmdirSync(dir);
  }
}

function release(key: string): void {
  const pair = pairs.get(key);
  if (pair === undefined) return;
  pairs.delete(key);
  clearTimeout(pair.timer);
  for (const fd of [pair.r, pair.w]) if (fd !== undefined) closeSync(fd);
}

/** The `end` of pipe `key`, made now if its partner has not come yet: give it to the child, then close it. */
export function takeEnd(key: string, end: 'r' | 'w'): number {
  let pair = pairs.get(key);
  if (pair === undefined) {
    const made = makePipe();
    const timer = setTimeout(() => release(key), UNCLAIMED_MS);
    timer.unref();
    pair = { ...made, timer };
    pairs.set(key, pair);
  }
  const fd = pair[end];
  if (fd === undefined) throw new Error(`pipe ${key}: its ${end === 'r' ? 'read' : 'write'} end was taken already`);
  pair[end] = undefined;
  if (pair.r === undefined && pair.w === undefined) release(key);
  return fd;
}

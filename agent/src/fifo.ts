/**
 * Real pipes for a child's extra fds. Node gives children sockets for 'pipe' stdio, and
 * `open("/dev/fd/N")` fails on a socket (ENXIO), so `diff <(a) <(b)` would not work. A FIFO,
 * opened at both ends and unlinked at once, is a pipe: the child gets its end as a plain fd at
 * the same number, the agent keeps the other as a stream.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PipeEnd {
  /** The fd the child inherits (close it here once the child is spawned). */
  readonly childFd: number;
  /** The agent's end: readable when the child writes, writable when it reads. */
  readonly stream: Socket;
}

/** One pipe per mode ('r': the child reads, 'w': it writes); undefined where mkfifo is missing. */
export function childPipes(modes: string): PipeEnd[] | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'mproxy-fifo-'));
  const ends: PipeEnd[] = [];
  try {
    for (const [i, mode] of [...modes].entries()) {
      const path = join(dir, String(i));
      if (spawnSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' }).status !== 0) return undefined;
      if (mode === 'r') {
        // Ours first, read-write (never blocks on Linux); the child's read end then opens at once.
        const ours = openSync(path, constants.O_RDWR);
        const childFd = openSync(path, constants.O_RDONLY);
        ends.push({ childFd, stream: new Socket({ fd: ours, readable: false, writable: true }) });
      } else {
        const ours = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
        const childFd = openSync(path, constants.O_WRONLY);
        ends.push({ childFd, stream: new Socket({ fd: ours, readable: true, writable: false }) });
      }
      unlinkSync(path);
    }
    return ends;
  } catch {
    for (const e of ends) {
      closeSync(e.childFd);
      e.stream.destroy();
    }
    return undefined;
  } finally {
    try {
      rmdirSync(dir);
    } catch {
      // A FIFO left behind by a failed mkfifo: the directory stays, empty of data.
    }
  }
}

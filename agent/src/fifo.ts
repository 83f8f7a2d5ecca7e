/**
 * Real pipes for a child's extra fds. Node gives children sockets for 'pipe' stdio, and
 * `open("/dev/fd/N")` fails on a socket (ENXIO), so `diff <(a) <(b)` would not work. A FIFO,
 * opened at both ends, is a pipe: the child gets its end as a plain fd at the same number, the
 * agent keeps the other as a stream.
 *
 * One FIFO rule differs from an anonymous pipe: re-opening it for reading (which is what
 * opening /dev/fd/N does) waits for a writer. Once the agent has written everything and closed
 * its end, a child that opens /dev/fd/N only then would wait forever; so until the child exits
 * the agent briefly opens the FIFO for writing now and then ("pokes" it), which lets such an
 * open through to the data and the end of file behind it.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PipeEnd {
  /** The fd the child inherits (close it here once the child is spawned). */
  readonly childFd: number;
  /** The agent's end: readable when the child writes, writable when it reads. */
  readonly stream: Socket;
  /** A child-read pipe whose writing is over: keep late opens of /dev/fd/N from waiting. */
  poke(): void;
}

export interface ChildPipes {
  readonly ends: readonly PipeEnd[];
  /** Once the child has exited: stop poking, remove the FIFOs. */
  close(): void;
}

const POKE_MS = 50;

/** One pipe per mode ('r': the child reads, 'w': it writes); undefined where mkfifo is missing. */
export function childPipes(modes: string): ChildPipes | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'mproxy-fifo-'));
  const ends: PipeEnd[] = [];
  const timers: NodeJS.Timeout[] = [];
  const close = (): void => {
    for (const t of timers) clearInterval(t);
    for (const name of readdirSync(dir)) unlinkSync(join(dir, name));
    rmdirSync(dir);
  };
  try {
    // One mkfifo for all of them: a synchronous spawn holds up every other stream of the agent.
    const paths = [...modes].map((_, i) => join(dir, String(i)));
    if (spawnSync('mkfifo', ['-m', '600', ...paths], { stdio: 'ignore' }).status !== 0) throw new Error('mkfifo failed');
    for (const [i, mode] of [...modes].entries()) {
      const path = paths[i] ?? '';
      if (mode === 'r') {
        // Ours first, read-write (never blocks on Linux); the child's read end then opens at once.
        const ours = openSync(path, constants.O_RDWR);
        const childFd = openSync(path, constants.O_RDONLY);
        const poke = (): void => {
          const knock = (): void => {
            try {
              closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
            } catch {
              // No reader left (ENXIO): nothing is waiting.
            }
          };
          const timer = setInterval(knock, POKE_MS);
          timer.unref();
          timers.push(timer);
        };
        ends.push({ childFd, stream: new Socket({ fd: ours, readable: false, writable: true }), poke });
      } else {
        const ours = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
        const childFd = openSync(path, constants.O_WRONLY);
        ends.push({ childFd, stream: new Socket({ fd: ours, readable: true, writable: false }), poke: () => undefined });
      }
    }
    return { ends, close };
  } catch {
    for (const e of ends) {
      closeSync(e.childFd);
      e.stream.destroy();
    }
    close();
    return undefined;
  }
}

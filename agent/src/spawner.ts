/**
 * Fast process starts through the native helper's spawner mode (`mproxy-pty --spawner`,
 * native/pty/spawner.c): Node's spawn forks the whole agent and waits for the exec, about
 * twice the time of the helper's posix_spawn. Used for plain execs (stdin/stdout/stderr, no pty,
 * no extra fds); the rest, and every exec once the helper is gone, use Node's spawn.
 *
 * Requests: u32le length, then 'R' u32le id, argc, envc, NUL-terminated cwd, argv, env — or
 * 'C' u32le id (we have opened the pipes). Replies, one line each: "S id pid IN OUT ERR",
 * "E id ERRNO", "X id WAITSTATUS". The pipes are opened as /proc/HELPER/fd/N, non-blocking (an
 * exited program's stdout has no writer: a blocking open would wait for one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/**
 * A process started by the spawner, shaped like the part of ChildProcess the agent uses:
 * 'spawn' once its pipes are open (stdio set), 'error' when it could not start, 'close' (code,
 * signal) once it has exited and its stdout and stderr are at their end.
 */
export class FastChild extends EventEmitter {
  pid: number | undefined;
  stdio: [Writable | null, Readable | null, Readable | null] = [null, null, null];
  private status: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private openOutputs = 0;

  constructor(private readonly file: string) {
    super();
  }

  kill(sig: NodeJS.Signals): boolean {
    if (this.pid === undefined || this.status !== undefined) return false;
    try {
      process.kill(this.pid, sig);
      return true;
    } catch {
      return false; // reaped by the helper, its "X" not read yet
    }
  }

  /** @internal "S": the helper's fds of our ends, opened here; false when they cannot be. */
  started(pid: number, helperPid: number, fds: readonly number[]): boolean {
    this.pid = pid;
    const open = (fd: number | undefined, flags: number): number | undefined => {
      try {
        return openSync(`/proc/${helperPid}/fd/${fd ?? -1}`, flags | constants.O_NONBLOCK);
      } catch {
        return undefined; // stdin of a program already gone (ENXIO): what we send is dropped, as with EPIPE
      }
    };
    const stdin = open(fds[0], constants.O_WRONLY);
    const outputs = [open(fds[1], constants.O_RDONLY), open(fds[2], constants.O_RDONLY)];
    if (outputs.includes(undefined)) {
      // Its output would be lost: it must not run on unseen.
      for (const fd of [stdin, ...outputs]) if (fd !== undefined) closeSync(fd);
      this.kill('SIGKILL');
      // The helper killed between its "S" and our opens (its fds gone with it) is said as such.
      const helperGone = !existsSync(`/proc/${helperPid}/fd/${fds[1] ?? -1}`);
      this.failed('EIO', helperGone ? "the agent's spawn helper exited" : 'cannot open the pipes of a program the spawn helper started');
      return false;
    }
    this.stdio[0] = stdin === undefined ? null : new Socket({ fd: stdin, readable: false, writable: true });
    outputs.forEach((fd, i) => {
      if (fd === undefined) return;
      const s = new Socket({ fd, readable: true, writable: false });
      this.openOutputs++;
      s.on('close', () => {
        this.openOutputs--;
        this.closeIfDone();
      });
      this.stdio[i + 1] = s;
    });
    this.emit('spawn');
    return true;
  }

  /** @internal "X" */
  exited(status: number): void {
    const signal = status & 0x7f;
    this.status =
      signal === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: SIGNAL_NAMES.get(signal) ?? 'SIGKILL' };
    this.closeIfDone();
  }

  /** @internal "E", or the helper is gone */
  failed(code: string, message: string): void {
    this.emit('error', Object.assign(new Error(`${message} (${this.file})`), { code }));
  }

  private closeIfDone(): void {
    if (this.status === undefined || this.openOutputs > 0) return;
    this.emit('close', this.status.code, this.status.signal);
    this.removeAllListeners('close');
  }
}

export class Spawner {
  private readonly children = new Map<number, FastChild>();
  private nextId = 1;
  /** No new execs: the helper is gone, or could not hand a program's pipes over. */
  private gone = false;
  private pending = '';

  private constructor(private readonly helper: ChildProcess) {
    helper.stdout?.setEncoding('latin1');
    helper.stdout?.on('data', (text: string) => this.replies(text));
    helper.stdin?.on('error', () => undefined);
    helper.on('error', () => this.lost());
    helper.on('exit', () => this.lost());
  }

  /** The spawner of `helper`, or undefined when there is none to run. */
  static start(helper: string | undefined): Spawner | undefined {
    // The pipes are handed over through /proc: without it, Node's spawn it is.
    if (helper === undefined || !existsSync('/proc/self/fd')) return undefined;
    const proc = spawn(helper, ['--spawner'], { stdio: ['pipe', 'pipe', 'ignore'] });
    proc.unref();
    return new Spawner(proc);
  }

  get usable(): boolean {
    return !this.gone;
  }

  spawn(argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string): FastChild {
    const words = [cwd, ...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
    // As Node's spawn does: a NUL cannot be passed, and would shift every string after it here.
    if (words.some((w) => w.includes('\0')))
      throw Object.assign(new TypeError('arguments, environment and cwd must not contain NUL bytes'), { code: 'ERR_INVALID_ARG_VALUE' });
    const id = this.nextId++;
    const child = new FastChild(argv[0] ?? '');
    this.children.set(id, child);
    const strings = Buffer.from(words.map((w) => `${w}\0`).join(''));
    const head = Buffer.alloc(17);
    head.writeUInt32LE(13 + strings.length, 0);
    head.write('R', 4, 'latin1');
    head.writeUInt32LE(id, 5);
    head.writeUInt32LE(argv.length, 9);
    head.writeUInt32LE(Object.keys(env).length, 13);
    this.helper.stdin?.write(Buffer.concat([head, strings]));
    return child;
  }

  private replies(text: string): void {
    this.pending += text;
    for (let eol = this.pending.indexOf('\n'); eol >= 0; eol = this.pending.indexOf('\n')) {
      const [kind, idText = '', ...rest] = this.pending.slice(0, eol).split(' ');
      this.pending = this.pending.slice(eol + 1);
      const id = Number(idText);
      const child = this.children.get(id);
      if (child === undefined) continue;
      if (kind === 'S') {
        const [pid = 0, ...fds] = rest.map(Number);
        if (!child.started(pid, this.helper.pid ?? -1, fds)) {
          this.children.delete(id);
          this.gone = true; // later execs: Node's spawn
        }
        this.send('C', id);
      } else if (kind === 'E') {
        this.children.delete(id);
        child.failed(rest[0] ?? 'EIO', `spawn ${rest[0] ?? 'EIO'}`);
      } else if (kind === 'X') {
        this.children.delete(id);
        child.exited(Number(rest[0]));
      }
    }
  }

  private send(kind: 'C', id: number): void {
    const b = Buffer.alloc(9);
    b.writeUInt32LE(5, 0);
    b.write(kind, 4, 'latin1');
    b.writeUInt32LE(id, 5);
    this.helper.stdin?.write(b);
  }

  /** The helper died ('error', 'exit' or both): whatever it was starting or watching fails. */
  private lost(): void {
    this.gone = true;
    for (const child of this.children.values()) child.failed('EIO', "the agent's spawn helper exited");
    this.children.clear();
  }
}

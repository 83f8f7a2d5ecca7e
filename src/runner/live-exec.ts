/**
 * One `mproxy exec` served by a live session (live-session.ts): the client's hello becomes a
 * command on the host, with the same environment filter, workdir and exit status as a cold
 * `exec` (exec.ts); stdio, signals and window sizes travel as frames. The client reads the
 * socket at all times, so output waits only for the socket, and input only for the command.
 *
 * Frames, both ways: [type: u8][length: u32 BE][payload: length bytes].
 */
import type { Socket } from 'node:net';
import { remoteEnv } from '../broker/env-filter.js';
import { signalName, signalNumber } from '../broker/signals.js';
import type { Profile } from '../profile/schema.js';
import { shellStatus, type RemoteHost, type RemoteProcess } from '../remote/host.js';
import { drained, remoteWorkdir } from './exec.js';
import type { LiveOptions } from './live-session.js';

/** How a command that could not run is reported: the text the client prints, the status it exits with. */
export interface Failure {
  readonly status: number;
  readonly text: string;
}

const HELLO_VERSION = '1';
/** A client that connects and says nothing is dropped after this long. */
const HELLO_DEADLINE_MS = 5000;
const HEADER = 5;

type Handler = (exec: LiveExec, payload: Buffer) => void;

/** What the client sends. */
const FROM_CLIENT: Readonly<Record<string, Handler>> = {
  // 'H' hello, first and once: NUL-terminated fields — version "1", the profile's real path,
  // tty "0"|"1", cols, rows, TERM, argc, then argc argv strings, then the client's environment
  // as KEY=VALUE to the end.
  H: (exec, payload) => exec.hello(payload.toString('utf8').split('\0').slice(0, -1)),
  // 'I' stdin bytes; an empty payload is the end of input.
  I: (exec, payload) => exec.input(payload),
  // 'S' a signal for the command: its number on this machine, as decimal text.
  S: (exec, payload) => exec.signal(Number(payload.toString())),
  // 'W' the terminal's new size: "COLS ROWS".
  W: (exec, payload) => {
    const [cols, rows] = payload.toString().split(' ').map(Number);
    exec.resize(cols ?? 80, rows ?? 24);
  },
};

// What the session sends: 'A' the command started (empty); 'O' stdout bytes; 'E' stderr bytes;
// 'X' the exit status as a shell reports it, decimal text; 'F' the command could not run: the
// status to exit with, decimal text, NUL, the text to print.
function frame(type: string, payload: Buffer | string = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(HEADER);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** What every command of one live session shares. */
export interface Served {
  readonly host: RemoteHost;
  readonly profile: Profile;
  readonly options: LiveOptions;
  readonly verbose?: ((message: string) => void) | undefined;
}

export class LiveExec {
  private pending: Buffer = Buffer.alloc(0);
  private proc: RemoteProcess | undefined;
  private ended = false;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    private readonly conn: Socket,
    private readonly served: Served,
    private readonly gone: () => void,
  ) {
    this.helloTimer = setTimeout(() => conn.destroy(), HELLO_DEADLINE_MS);
    conn.on('data', (chunk: Buffer) => this.receive(chunk));
    conn.on('error', () => undefined);
    conn.on('close', () => {
      clearTimeout(this.helloTimer);
      // The client went away (killed, its terminal closed) while its command ran: hang it up.
      if (!this.ended) this.proc?.signal('SIGHUP');
      this.ended = true;
      this.gone();
    });
  }

  /** The session ends: a command still running is hung up, its client told nothing more. */
  abandon(): void {
    if (!this.ended) this.proc?.signal('SIGHUP');
    this.ended = true;
    this.conn.destroy();
  }

  private receive(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < HEADER + length) return;
      const type = String.fromCharCode(this.pending[0] ?? 0);
      const payload = this.pending.subarray(HEADER, HEADER + length);
      this.pending = this.pending.subarray(HEADER + length);
      const handler = FROM_CLIENT[type];
      if (handler === undefined || (type !== 'H' && this.proc === undefined)) return void this.conn.destroy();
      handler(this, payload);
    }
  }

  hello(fields: string[]): void {
    clearTimeout(this.helloTimer);
    if (this.proc !== undefined) return void this.conn.destroy();
    const [version, file, tty, cols, rows, term, argc] = fields;
    const count = Number(argc);
    if (version !== HELLO_VERSION || file !== this.served.options.socket.profile || !Number.isInteger(count) || count < 1)
      return this.fail(new Error(`this live session serves ${this.served.options.socket.profile}, and speaks version ${HELLO_VERSION}`));
    const argv = fields.slice(7, 7 + count);
    const clientEnv: NodeJS.ProcessEnv = {};
    for (const kv of fields.slice(7 + count)) {
      const eq = kv.indexOf('=');
      if (eq > 0) clientEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const { host, profile, verbose } = this.served;
    verbose?.(`live session: running \`${argv.join(' ')}\` for \`mproxy exec\``);
    const info = host.info();
    const proc = host.exec({
      argv,
      env: remoteEnv(info, profile.env)(clientEnv),
      cwd: remoteWorkdir(profile, info.home),
      ...(tty === '1' ? { pty: { cols: Number(cols) || 80, rows: Number(rows) || 24, term: term || 'xterm-256color' } } : {}),
    });
    this.proc = proc;
    this.send('A');
    this.carry(proc.stdout, 'O');
    this.carry(proc.stderr, 'E');
    proc.stdin.on('error', () => undefined);
    void this.finish(proc);
  }

  input(data: Buffer): void {
    const stdin = this.proc?.stdin;
    if (stdin === undefined || stdin.writableEnded) return;
    if (data.length === 0) return void stdin.end();
    // The command reads slower than the client sends: stop reading the client until it catches up.
    if (!stdin.write(Buffer.from(data))) {
      this.conn.pause();
      stdin.once('drain', () => this.conn.resume());
    }
  }

  signal(n: number): void {
    const name = signalName(n);
    if (name !== undefined) this.proc?.signal(name);
  }

  resize(cols: number, rows: number): void {
    this.proc?.resize(cols, rows);
  }

  private carry(stream: NodeJS.ReadableStream, type: 'O' | 'E'): void {
    stream.on('data', (chunk: Buffer) => {
      if (!this.send(type, chunk)) {
        stream.pause();
        this.conn.once('drain', () => stream.resume());
      }
    });
  }

  private async finish(proc: RemoteProcess): Promise<void> {
    try {
      const status = await proc.exited;
      await Promise.all([drained(proc.stdout), drained(proc.stderr)]);
      this.send('X', String(shellStatus(status, signalNumber)));
      this.conn.end();
    } catch (err) {
      this.fail(err);
    }
    this.ended = true;
  }

  private fail(err: unknown): void {
    const { status, text } = this.served.options.describe(err);
    this.send('F', `${status}\0${text}`);
    this.ended = true;
    this.conn.end();
  }

  private send(type: string, payload?: Buffer | string): boolean {
    if (this.conn.destroyed || this.conn.writableEnded) return true;
    return this.conn.write(frame(type, payload));
  }
}

/**
 * A process on an SSH remote without the agent: one exec channel each. The command line sshd
 * hands to the login shell is fixed and shell-neutral; the real work — cwd, the exact
 * environment, argv with any bytes — arrives as a POSIX sh script in the first bytes of stdin,
 * read with `dd` one byte at a time so the process's own stdin is left untouched after it.
 *
 * sshd starts each exec in a session of its own, so the command's pid is its process group:
 * the script reports it after the start marker, and signals go to the whole group through a
 * short `kill` on another channel (SSH's own "signal" request reaches one process only).
 * Not carried: extra fds, and window sizes (no pty).
 */
import { Transform, Writable } from 'node:stream';
import type { ClientChannel } from '../../target/ssh/ssh2.js';
import { MproxyError } from '../../util/errors.js';
import type { ExecRequest, ExitStatus, RemoteProcess } from '../host.js';

/** Printed on stdout and stderr first thing: what comes before it is the login shell talking. */
const START = '\u0000mproxy:start';
const NOT_FOUND = '\u0000mproxy:enoent\n';
const NO_CWD = '\u0000mproxy:nocwd\n';
const NOT_EXECUTABLE = '\u0000mproxy:eacces\n';

/** `'…'` for POSIX sh: any bytes but NUL. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function execScript(req: ExecRequest): string {
  const [cmd = ''] = req.argv;
  const pathOf = `PATH=${shQuote(req.env['PATH'] ?? '/usr/bin:/bin')}`;
  return [
    "printf '\\000mproxy:start:%s\\n' $$; printf '\\000mproxy:start\\n' >&2",
    `cd ${shQuote(req.cwd)} 2>/dev/null || { printf '\\000mproxy:nocwd\\n' >&2; exit 126; }`,
    cmd.includes('/')
      ? `if [ ! -e ${shQuote(cmd)} ]; then printf '\\000mproxy:enoent\\n' >&2; exit 127; elif [ ! -x ${shQuote(cmd)} ] || [ -d ${shQuote(cmd)} ]; then printf '\\000mproxy:eacces\\n' >&2; exit 126; fi`
      : `(${pathOf}; command -v ${shQuote(cmd)}) >/dev/null 2>&1 || { printf '\\000mproxy:enoent\\n' >&2; exit 127; }`,
    `exec env -i ${Object.entries(req.env).map(([k, v]) => shQuote(`${k}=${v}`)).join(' ')} ${req.argv.map(shQuote).join(' ')}`,
    '',
  ].join('\n');
}

/** The fixed command line: read the script from stdin, then run it with the rest of stdin. */
export function bootCommand(scriptBytes: number): string {
  return `exec /bin/sh -c 'eval "$(dd bs=1 count=${scriptBytes} 2>/dev/null)"'`;
}

/**
 * Drops what precedes the start marker line (banners, .bashrc output), tells `onStart` what
 * the line carried after the marker, and hands the first chunk after it to `onFirst`, which
 * may strip a spawn-error marker from it.
 */
class AfterStart extends Transform {
  private seen = Buffer.alloc(0);
  private started = false;
  private firstDone = false;

  constructor(
    private readonly onFirst: (chunk: Buffer) => Buffer = (c) => c,
    private readonly onStart: (extra: string) => void = () => undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    if (this.started) return done(null, this.first(chunk));
    this.seen = Buffer.concat([this.seen, chunk]);
    const at = this.seen.indexOf(START, 0, 'latin1');
    const eol = at < 0 ? -1 : this.seen.indexOf(0x0a, at);
    if (eol < 0) {
      // Keep only what could be the start of a split marker line.
      if (at < 0) this.seen = this.seen.subarray(Math.max(0, this.seen.length - START.length));
      return done();
    }
    this.started = true;
    this.onStart(this.seen.subarray(at + START.length, eol).toString('latin1'));
    const rest = this.seen.subarray(eol + 1);
    this.seen = Buffer.alloc(0);
    done(null, this.first(rest));
  }

  /** The first bytes after the marker line, whichever chunk they arrive in. */
  private first(chunk: Buffer): Buffer {
    if (this.firstDone || chunk.length === 0) return chunk;
    this.firstDone = true;
    return this.onFirst(chunk);
  }
}

export class AgentlessProcess implements RemoteProcess {
  readonly stdin: Writable;
  readonly stdout: Transform;
  readonly stderr: Transform;
  private pid: number | undefined;
  readonly fds = new Map<number, never>();
  readonly exited: Promise<ExitStatus>;
  private spawnError: string | undefined;

  private pendingSignals: string[] = [];
  private done = false;

  /**
   * `opening`: the exec channel, which may wait for a free session slot.
   * `signalGroup`: delivers a signal to a process group on the remote.
   */
  constructor(
    opening: Promise<ClientChannel>,
    private readonly request: ExecRequest,
    script: Buffer,
    private readonly signalGroup: (pgid: number, signal: string) => void = () => undefined,
  ) {
    this.stdout = new AfterStart(undefined, (extra) => {
      const pid = Number(extra.replace(/^:/, ''));
      if (!Number.isInteger(pid) || pid <= 1) return;
      this.pid = pid;
      for (const sig of this.pendingSignals.splice(0)) this.signalGroup(pid, sig);
    });
    const ready = opening.then((channel) => {
      channel.write(script);
      return channel;
    });
    ready.catch(() => undefined);
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        ready.then((channel) => (channel.write(chunk) ? done() : channel.once('drain', () => done())), (err: Error) => done(err));
      },
      final: (done) => {
        ready.then((channel) => {
          channel.end();
          done();
        }, () => done());
      },
    });
    this.stdin.on('error', () => undefined);
    this.stderr = new AfterStart((chunk) => {
      const text = chunk.toString('latin1');
      const marker = [NOT_FOUND, NO_CWD, NOT_EXECUTABLE].find((m) => text.startsWith(m));
      if (marker === undefined) return chunk;
      this.spawnError = marker;
      return chunk.subarray(marker.length);
    });
    this.exited = ready.then((channel) => this.watch(channel));
    this.exited.catch(() => {
      this.stdout.end();
      this.stderr.end();
    });
  }

  private watch(channel: ClientChannel): Promise<ExitStatus> {
    channel.pipe(this.stdout);
    channel.stderr.pipe(this.stderr);
    return new Promise((resolve, reject) => {
      let status: ExitStatus = { code: null, signal: null };
      channel.on('exit', (code: number | null, signal?: string) => {
        status = code !== null && code !== undefined ? { code, signal: null } : { code: null, signal: signal === undefined ? null : signal.startsWith('SIG') ? signal : `SIG${signal}` };
      });
      channel.on('close', () => {
        this.done = true;
        // The spawn-error marker is read from stderr: decide once stderr has passed through.
        if (this.stderr.writableFinished) settle();
        else {
          this.stderr.once('finish', settle);
          setTimeout(settle, 1000).unref();
        }
      });
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        const argv0 = this.request.argv[0] ?? '';
        if (this.spawnError === NOT_FOUND) reject(new MproxyError('E_COMMAND_NOT_FOUND', `${argv0}: command not found`));
        else if (this.spawnError === NOT_EXECUTABLE) reject(new MproxyError('E_COMMAND_NOT_EXECUTABLE', `${argv0}: permission denied`));
        else if (this.spawnError === NO_CWD) reject(new MproxyError('E_EXEC', `cannot run ${argv0}: the working directory ${this.request.cwd} does not exist on the remote`, { hint: 'create it, or check the first [[mounts]] entry' }));
        else if (status.code === null && status.signal === null) reject(new MproxyError('E_CONNECTION_LOST', `the connection closed before ${argv0} finished`));
        else resolve(status);
      };
    });
  }

  signal(name: string): void {
    if (this.done) return;
    if (this.pid === undefined) this.pendingSignals.push(name);
    else this.signalGroup(this.pid, name);
  }

  resize(): void {
    // No pty in the agentless tier.
  }
}

/**
 * A process of the agentless tier, over whatever carries one exec (the transport's ExecChannel:
 * an SSH channel, a Docker exec). The script (script.ts) prints a start marker first: output before it
 * is a login shell talking and is dropped; the marker carries the pid, so signals go to the
 * process group through `signalGroup`; spawn failures arrive as markers and become errors.
 */
import { Transform, Writable } from 'node:stream';
import type { ExecChannel } from '../../transport/transport.js';
import { MproxyError } from '../../util/errors.js';
import type { ExecRequest, ExitStatus, RemoteProcess } from '../host.js';
import { SPAWN_MARKERS, START, type SpawnFailure } from './script.js';

/**
 * Drops what precedes the start marker line, tells `onStart` what the line carried after the
 * marker, and hands the first chunk after it to `onFirst`, which may strip a spawn marker.
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
    this.onStart(
      this.seen
        .subarray(at + START.length, eol)
        .toString('latin1')
        .trim(),
    );
    const rest = this.seen.subarray(eol + 1);
    this.seen = Buffer.alloc(0);
    done(null, this.first(rest));
  }

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
  readonly fds = new Map<number, never>();
  readonly exited: Promise<ExitStatus>;
  /** The exec channel opened: a session that was never opened ran nothing. */
  readonly sent: Promise<void>;
  private pid: number | undefined;
  private spawnError: SpawnFailure | undefined;
  private pendingSignals: string[] = [];
  private transport: ExecChannel | undefined;
  private done = false;

  /** `opening`: the exec, which may wait for a free session. */
  constructor(
    opening: Promise<ExecChannel>,
    private readonly request: ExecRequest,
    private readonly signalGroup: (pid: number, signal: string) => void,
  ) {
    const strip = (chunk: Buffer): Buffer => this.stripSpawnMarker(chunk);
    const pty = request.pty !== undefined;
    this.stdout = new AfterStart(pty ? strip : undefined, (extra) => this.started(extra));
    this.stderr = pty ? new Transform({ transform: (c: Buffer, _e, done) => done(null, c) }) : new AfterStart(strip);
    const ready = opening.then((t) => {
      this.transport = t;
      return t;
    });
    ready.catch(() => undefined);
    this.sent = ready.then(() => undefined);
    this.sent.catch(() => undefined);
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        ready.then(
          (t) => (t.stdin.write(chunk) ? done() : t.stdin.once('drain', () => done())),
          (err: Error) => done(err),
        );
      },
      final: (done) => {
        ready.then(
          (t) => {
            t.stdin.end();
            done();
          },
          () => done(),
        );
      },
    });
    this.stdin.on('error', () => undefined);
    this.exited = ready.then((t) => this.watch(t));
    this.exited.catch(() => {
      this.stdout.end();
      this.stderr.end();
    });
  }

  private started(extra: string): void {
    const pid = Number(extra.replace(/^:/, ''));
    if (!Number.isInteger(pid) || pid <= 1) return;
    this.pid = pid;
    for (const sig of this.pendingSignals.splice(0)) this.signalGroup(pid, sig);
  }

  private stripSpawnMarker(chunk: Buffer): Buffer {
    const text = chunk.toString('latin1');
    const kind = (Object.keys(SPAWN_MARKERS) as SpawnFailure[]).find((k) => text.startsWith(SPAWN_MARKERS[k]));
    if (kind === undefined) return chunk;
    this.spawnError = kind;
    const eol = chunk.indexOf(0x0a);
    return eol < 0 ? Buffer.alloc(0) : chunk.subarray(eol + 1);
  }

  private async watch(t: ExecChannel): Promise<ExitStatus> {
    t.stdout.pipe(this.stdout);
    t.stderr.pipe(this.stderr);
    const status = await t.status;
    this.done = true;
    // Spawn markers are read from the output: decide once it has passed through.
    await Promise.race([
      Promise.all([this.stdout, this.stderr].map((s) => (s.writableFinished ? undefined : new Promise((r) => s.once('finish', r))))),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
    const argv0 = this.request.argv[0] ?? '';
    if (this.spawnError === 'enoent') throw new MproxyError('E_COMMAND_NOT_FOUND', `${argv0}: command not found`);
    if (this.spawnError === 'eacces') throw new MproxyError('E_COMMAND_NOT_EXECUTABLE', `${argv0}: permission denied`);
    if (this.spawnError === 'nocwd')
      throw new MproxyError('E_EXEC', `cannot run ${argv0}: the working directory ${this.request.cwd} does not exist on the remote`, {
        hint: 'create it, or check the first [[mounts]] entry',
      });
    if (status === null) throw new MproxyError('E_CONNECTION_LOST', `the connection closed before ${argv0} finished`);
    return status;
  }

  signal(name: string): void {
    if (this.done) return;
    if (this.pid === undefined) {
      if (!this.pendingSignals.includes(name)) this.pendingSignals.push(name);
    } else this.signalGroup(this.pid, name);
  }

  resize(cols: number, rows: number): void {
    if (!this.done && this.request.pty !== undefined) this.transport?.resize(cols, rows);
  }
}

/** A process that could not even be attempted (the request asks for what the tier lacks). */
export function refusedProcess(request: ExecRequest, error: MproxyError): AgentlessProcess {
  return new AgentlessProcess(Promise.reject(error), request, () => undefined);
}

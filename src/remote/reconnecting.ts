/**
 * A RemoteHost that survives a dropped link: what was in flight fails at once with the
 * connection's error (never a hang), and the next operation reconnects, with backoff, before it
 * runs. Gives up after a deadline with the last reason.
 */
import { type Duplex, PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FileOpArgs, FileOpName, FileOpResult } from '../protocol/file-ops.js';
import type { PathEntry } from '../protocol/frames.js';
import type { NetAddress } from '../protocol/net-frames.js';
import { isMproxyError, MproxyError, messageOf } from '../util/errors.js';
import {
  RemoteFsError,
  type ExecRequest,
  type ExitStatus,
  type RemoteHost,
  type RemoteInfo,
  type RemoteListener,
  type RemoteProcess,
  type RemoteWatch,
  type WatchListener,
} from './host.js';

export interface ReconnectOptions {
  readonly description: string;
  /** How long to keep trying before giving up. */
  readonly deadlineMs?: number;
  readonly verbose?: (message: string) => void;
  /** A failure no retry can mend (a refused key, a container that was stopped): give up at once. */
  readonly permanent?: (err: unknown) => boolean;
}

/** File operations on a handle: a handle numbers a file on the connection that opened it only. */
const HANDLE_OPS: ReadonlySet<FileOpName> = new Set<FileOpName>(['close', 'read', 'write', 'fstat', 'ftruncate', 'fsync']);

export class ReconnectingHost implements RemoteHost {
  private pending: Promise<RemoteHost> | undefined;
  private closed = false;
  /** Why reconnecting was given up: every later call fails with it. */
  private gaveUp: MproxyError | undefined;
  private reconnects = 0;

  readonly fs = {
    call: async <K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> => {
      // Sent on a new connection, an old handle would name nothing there — or another file.
      if (HANDLE_OPS.has(op) && this.current.isLost)
        throw new RemoteFsError('EBADF', 'the file handle belonged to a connection that was lost', op);
      return (await this.host()).fs.call(op, ...args);
    },
  };

  constructor(
    private current: RemoteHost,
    private readonly open: () => Promise<RemoteHost>,
    private readonly options: ReconnectOptions,
  ) {}

  get isLost(): boolean {
    return this.closed || this.gaveUp !== undefined;
  }

  get generation(): number {
    return this.reconnects;
  }

  /** The live host, reconnecting first when the link was lost. */
  private host(): Promise<RemoteHost> {
    if (this.closed)
      return Promise.reject(new MproxyError('E_CONNECTION_LOST', `the connection to ${this.options.description} was closed`));
    if (this.gaveUp !== undefined) return Promise.reject(this.gaveUp);
    if (!this.current.isLost) return Promise.resolve(this.current);
    this.pending ??= this.reconnect().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async reconnect(): Promise<RemoteHost> {
    const deadline = Date.now() + (this.options.deadlineMs ?? 30_000);
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      this.options.verbose?.(`reconnecting to ${this.options.description} (attempt ${attempt})`);
      try {
        this.current = await this.open();
        this.reconnects++;
        return this.current;
      } catch (err) {
        const hopeless = err instanceof MproxyError && (err.code === 'E_HOST_KEY_CHANGED' || err.code === 'E_SSH_AUTH');
        if (Date.now() + delay > deadline || hopeless || this.options.permanent?.(err) === true) {
          this.gaveUp = new MproxyError(
            'E_CONNECTION_LOST',
            `the connection to ${this.options.description} was lost and could not be restored: ${messageOf(err)}`,
            {
              cause: err,
              hint: isMproxyError(err) && err.hints.length > 0 ? err.hints : 'check the network and the remote, then run again',
            },
          );
          throw this.gaveUp;
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 4000);
      }
    }
  }

  exec(request: ExecRequest): RemoteProcess {
    if (this.current.isLost || this.closed)
      return new DeferredProcess(
        this.host().then((h) => h.exec(request)),
        request,
      );
    const host = this.current;
    const first = host.exec(request);
    if (first.sent === undefined) return first;
    // Sent as the link dropped (before this side saw it), a command never reached the remote:
    // it goes again on the new connection instead of failing.
    const resent = first.sent.then(
      () => first,
      async (err: unknown) => {
        await new Promise((r) => setImmediate(r)); // the transport learns of the drop in the same turn
        if (!host.isLost || this.closed) throw err;
        first.exited.catch(() => undefined);
        this.options.verbose?.(`the connection to ${this.options.description} dropped as a command was sent: sending it again`);
        return (await this.host()).exec(request);
      },
    );
    return new DeferredProcess(resent, request);
  }

  async pathQuery(dirs?: readonly string[]): Promise<PathEntry[]> {
    return (await this.host()).pathQuery(dirs);
  }

  /** A watch lives as long as the link it was made on: a reconnect tells its listener null. */
  async watch(dir: Uint8Array, onChange: WatchListener): Promise<RemoteWatch> {
    const host = await this.host();
    if (host.watch === undefined)
      throw new RemoteFsError('ENOSYS', `${this.options.description} cannot watch directories (${host.info().tier} tier)`, 'watch');
    return host.watch(dir, onChange);
  }

  /** A forwarded connection opens on the live link; one open when the link drops fails with it. */
  async connect(to: NetAddress): Promise<Duplex> {
    const host = await this.host();
    if (host.connect === undefined) throw this.cannotForward(host);
    return host.connect(to);
  }

  /** A remote listener lives on the link it was made on (the forward that made it makes it again). */
  async listen(at: NetAddress, onConnection: (c: Duplex) => void): Promise<RemoteListener> {
    const host = await this.host();
    if (host.listen === undefined) throw this.cannotForward(host);
    return host.listen(at, onConnection);
  }

  private cannotForward(host: RemoteHost): MproxyError {
    const why = host.info().limitations.find((l) => l.feature === 'forwards')?.why ?? 'this tier cannot open sockets there';
    return new MproxyError('E_NOT_IMPLEMENTED', `cannot forward on ${this.options.description}: ${why}`, {
      hint: 'install Node.js >= 18 on the remote (for a container: an image with it) so the agent runs',
    });
  }

  info(): RemoteInfo {
    return this.current.info();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current.close();
  }
}

/** A process whose start waits for the connection to come back. */
class DeferredProcess implements RemoteProcess {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly fds: ReadonlyMap<number, { input: PassThrough; output: PassThrough }>;
  readonly exited: Promise<ExitStatus>;
  private started: RemoteProcess | undefined;
  private readonly early: (() => void)[] = [];

  constructor(starting: Promise<RemoteProcess>, request: ExecRequest) {
    this.fds = new Map((request.fds ?? []).map((fd) => [fd, { input: new PassThrough(), output: new PassThrough() }]));
    this.exited = starting.then((p) => {
      this.started = p;
      this.stdin.pipe(p.stdin);
      p.stdout.pipe(this.stdout);
      p.stderr.pipe(this.stderr);
      for (const [fd, ends] of this.fds) {
        const inner = p.fds.get(fd);
        if (inner === undefined) continue;
        ends.input.pipe(inner.input);
        inner.output.pipe(ends.output);
      }
      for (const action of this.early.splice(0)) action();
      return p.exited;
    });
    this.exited.catch(() => {
      for (const s of [this.stdout, this.stderr, ...[...this.fds.values()].map((f) => f.output)]) s.end();
    });
  }

  signal(name: string): void {
    if (this.started !== undefined) this.started.signal(name);
    else this.early.push(() => this.started?.signal(name));
  }

  resize(cols: number, rows: number): void {
    if (this.started !== undefined) this.started.resize(cols, rows);
    else this.early.push(() => this.started?.resize(cols, rows));
  }
}

/**
 * Forwarded connections as the agent client sees them: each a Duplex over the connection's
 * frames (Data s=0 to the remote socket, s=1 from it, both under the protocol's windows), opened
 * with Connect or accepted by a remote listener. An answer that does not come within the
 * deadline fails the open; a lost connection fails everything at once.
 */
import { Duplex } from 'node:stream';
import { ACK_BATCH, MAX_CHUNK, T, WINDOW, type Frame } from '../../protocol/frames.js';
import type { NetAddress } from '../../protocol/net-frames.js';
import { MproxyError } from '../../util/errors.js';
import type { RemoteListener } from '../host.js';

type Send = (frame: Frame) => void;

/** One forwarded connection; destroying it resets the remote socket. */
export class ForwardedConnection extends Duplex {
  private unacked = 0;
  private credit = WINDOW;
  private waiting: (() => void) | undefined;
  private remoteEnded = false;

  constructor(
    private readonly send: Send,
    readonly id: number,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: WINDOW / 2, writableHighWaterMark: MAX_CHUNK });
  }

  override _read(): void {
    if (this.unacked < ACK_BATCH) return;
    this.send({ t: T.Ack, id: this.id, s: 1, n: this.unacked });
    this.unacked = 0;
  }

  deliver(d: Uint8Array): void {
    this.unacked += d.length;
    if (this.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength))) this._read();
  }

  finish(): void {
    this.remoteEnded = true;
    this.push(null);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += MAX_CHUNK) {
      const d = chunk.subarray(off, off + MAX_CHUNK);
      this.send({ t: T.Data, id: this.id, s: 0, d });
      this.credit -= d.length;
    }
    if (this.credit > 0) done();
    else this.waiting = () => done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.send({ t: T.Eof, id: this.id, s: 0 });
    done();
  }

  acknowledge(n: number): void {
    this.credit += n;
    const resume = this.waiting;
    if (this.credit > 0 && resume !== undefined) {
      this.waiting = undefined;
      resume();
    }
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Torn down before both sides ended: the remote socket goes too.
    if (!this.remoteEnded || !this.writableFinished)
      this.send({ t: T.Error, id: this.id, code: 'ECONNRESET', msg: err?.message ?? 'closed' });
    this.waiting?.();
    done(err);
  }
}

interface Waiter<T> {
  readonly what: string;
  readonly resolve: (v: T) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The forwarding half of an agent client: its frames in, Duplexes and listeners out. */
export class AgentNet {
  private readonly conns = new Map<number, ForwardedConnection>();
  private readonly opening = new Map<number, Waiter<ForwardedConnection>>();
  private readonly binding = new Map<number, Waiter<number>>();
  private readonly listeners = new Map<number, (c: Duplex) => void>();

  constructor(
    private readonly send: Send,
    private readonly nextId: () => number,
    private readonly description: string,
    private readonly timeoutMs: number,
  ) {}

  private wait<V>(into: Map<number, Waiter<V>>, id: number, what: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const timer = setTimeout(() => {
        into.delete(id);
        reject(new MproxyError('E_TIMEOUT', `${what} on ${this.description} got no answer within ${this.timeoutMs / 1000}s`));
      }, this.timeoutMs);
      into.set(id, { what, resolve, reject, timer });
    });
  }

  connect(to: NetAddress): Promise<Duplex> {
    const id = this.nextId();
    const opened = this.wait(this.opening, id, `connecting to ${describeAddress(to)}`);
    this.send({ t: T.Connect, id, to });
    return opened;
  }

  async listen(at: NetAddress, onConnection: (c: Duplex) => void): Promise<RemoteListener> {
    const id = this.nextId();
    const bound = this.wait(this.binding, id, `listening at ${describeAddress(at)}`);
    this.send({ t: T.Listen, id, at });
    const port = await bound;
    this.listeners.set(id, onConnection);
    return {
      port,
      close: async () => {
        if (this.listeners.delete(id)) this.send({ t: T.Unlisten, id });
      },
    };
  }

  owns(id: number): boolean {
    return this.conns.has(id);
  }

  opened(id: number): void {
    const w = this.opening.get(id);
    if (w === undefined) return;
    this.opening.delete(id);
    clearTimeout(w.timer);
    w.resolve(this.track(new ForwardedConnection(this.send, id)));
  }

  listening(id: number, port: number): void {
    const w = this.binding.get(id);
    if (w === undefined) return;
    this.binding.delete(id);
    clearTimeout(w.timer);
    w.resolve(port);
  }

  accepted(id: number, listener: number): void {
    const conn = this.track(new ForwardedConnection(this.send, id));
    const hand = this.listeners.get(listener);
    if (hand !== undefined) hand(conn);
    else conn.destroy();
  }

  private track(conn: ForwardedConnection): ForwardedConnection {
    this.conns.set(conn.id, conn);
    conn.once('close', () => this.conns.delete(conn.id));
    return conn;
  }

  data(id: number, d: Uint8Array): void {
    this.conns.get(id)?.deliver(d);
  }

  eof(id: number): void {
    this.conns.get(id)?.finish();
  }

  ack(id: number, n: number): void {
    this.conns.get(id)?.acknowledge(n);
  }

  /** An Error frame for `id`: true when it was one of ours (an open refused, a connection reset). */
  error(id: number, code: string, msg: string): boolean {
    for (const waiting of [this.opening, this.binding] as Map<number, Waiter<unknown>>[]) {
      const w = waiting.get(id);
      if (w === undefined) continue;
      waiting.delete(id);
      clearTimeout(w.timer);
      w.reject(Object.assign(new MproxyError('E_CONNECTION_LOST', `${w.what} on ${this.description}: ${msg}`), { errno: code }));
      return true;
    }
    const conn = this.conns.get(id);
    if (conn === undefined) return false;
    this.conns.delete(id);
    conn.destroy(
      Object.assign(new MproxyError('E_CONNECTION_LOST', `a forwarded connection on ${this.description}: ${msg}`), { errno: code }),
    );
    return true;
  }

  lost(error: Error): void {
    for (const waiting of [this.opening, this.binding] as Map<number, Waiter<unknown>>[]) {
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(error);
      }
      waiting.clear();
    }
    for (const c of this.conns.values()) c.destroy(error);
    this.conns.clear();
    this.listeners.clear();
  }
}

/** `host:port` or the socket path, for messages. */
export function describeAddress(a: NetAddress): string {
  return 'path' in a ? a.path : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

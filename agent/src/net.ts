/**
 * Forwarded connections on the agent's side: sockets it opened (Connect) or accepted on a
 * listener (Listen), each a stream id whose bytes travel as Data (s=0 to the socket, s=1 from
 * it) under the same windows as a process's stdio, each direction ended by its Eof. A socket
 * error ends the stream with an Error frame; a listener stays until Unlisten or the end.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ACK_BATCH, MAX_CHUNK, T, WINDOW } from '../../src/protocol/frames.js';
import { ACCEPTED_BASE, type NetAddress } from '../../src/protocol/net-frames.js';
import type { AgentChannel } from './channel.js';

interface Stream {
  readonly socket: Socket;
  credit: number;
  written: number;
  /** Directions still open: both ended, the stream is forgotten. */
  open: number;
}

function errnoOf(err: unknown): { code: string; msg: string } {
  const e = err as NodeJS.ErrnoException;
  return { code: typeof e.code === 'string' ? e.code : 'EIO', msg: e.message ?? String(err) };
}

export class NetStreams {
  private readonly streams = new Map<number, Stream>();
  private readonly listeners = new Map<number, Server>();
  private nextAccepted = ACCEPTED_BASE;

  constructor(private readonly channel: AgentChannel) {
    channel.on('drain', this.resumeAll);
  }

  has(id: number): boolean {
    return this.streams.has(id);
  }

  connect(id: number, to: NetAddress): void {
    // Half-open allowed: the remote side ending its writes must not end ours before the client does.
    const socket =
      'path' in to
        ? createConnection({ path: to.path, allowHalfOpen: true })
        : createConnection({ port: to.port, host: to.host, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.setNoDelay(true);
      this.channel.send({ t: T.Opened, id });
      this.attach(id, socket);
    });
    socket.once('error', (err) => {
      if (!this.streams.has(id)) this.channel.send({ t: T.Error, id, ...errnoOf(err) });
    });
  }

  listen(id: number, at: NetAddress): void {
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      const accepted = this.nextAccepted++;
      this.channel.send({ t: T.Accepted, id: accepted, listener: id });
      this.attach(accepted, socket);
    });
    server.once('error', (err) => this.channel.send({ t: T.Error, id, ...errnoOf(err) }));
    const ready = (): void => {
      const bound = server.address();
      this.listeners.set(id, server);
      this.channel.send({ t: T.Listening, id, port: typeof bound === 'object' && bound !== null ? bound.port : 0 });
    };
    if ('path' in at) server.listen(at.path, ready);
    else server.listen(at.port, at.host, ready);
  }

  unlisten(id: number): void {
    this.listeners.get(id)?.close();
    this.listeners.delete(id);
  }

  private attach(id: number, socket: Socket): void {
    const s: Stream = { socket, credit: WINDOW, written: 0, open: 2 };
    this.streams.set(id, s);
    socket.on('data', (chunk: Buffer) => {
      for (let off = 0; off < chunk.length; off += MAX_CHUNK) {
        const d = chunk.subarray(off, off + MAX_CHUNK);
        this.channel.send({ t: T.Data, id, s: 1, d });
        s.credit -= d.length;
      }
      if (s.credit <= 0 || this.channel.isCongested) socket.pause();
    });
    socket.on('end', () => {
      this.channel.send({ t: T.Eof, id, s: 1 });
      this.closed(id, s);
    });
    socket.on('error', (err) => {
      if (!this.streams.has(id)) return;
      this.streams.delete(id);
      this.channel.send({ t: T.Error, id, ...errnoOf(err) });
      socket.destroy();
    });
  }

  /** One direction of `s` is done; with both, it is forgotten (the socket closes once its writes are out). */
  private closed(id: number, s: Stream): void {
    s.open -= 1;
    if (s.open === 0) this.streams.delete(id);
  }

  data(id: number, d: Uint8Array): void {
    const s = this.streams.get(id);
    if (s === undefined || s.socket.writableEnded) return;
    s.socket.write(d, () => {
      s.written += d.length;
      if (s.written < ACK_BATCH) return;
      this.channel.send({ t: T.Ack, id, s: 0, n: s.written });
      s.written = 0;
    });
  }

  eof(id: number): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    s.socket.end();
    this.closed(id, s);
  }

  ack(id: number, n: number): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    s.credit += n;
    if (s.credit > 0 && !this.channel.isCongested && s.socket.isPaused()) s.socket.resume();
  }

  /** The client reset the stream (its local end failed): drop the socket. */
  reset(id: number): void {
    this.streams.get(id)?.socket.destroy();
    this.streams.delete(id);
  }

  private readonly resumeAll = (): void => {
    for (const s of this.streams.values()) if (s.credit > 0 && s.socket.isPaused()) s.socket.resume();
  };

  closeAll(): void {
    for (const l of this.listeners.values()) l.close();
    for (const s of this.streams.values()) s.socket.destroy();
  }
}

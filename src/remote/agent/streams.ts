/**
 * The local ends of one exec stream under the protocol's flow control. Output from the remote
 * is acknowledged only as the local consumer reads it; input to the remote is held back once a
 * window's worth is unacknowledged.
 */
import { Readable, Writable } from 'node:stream';
import { ProtocolError } from '../../protocol/codec.js';
import { ACK_BATCH, MAX_CHUNK, T, WINDOW, type Frame } from '../../protocol/frames.js';

export type Send = (frame: Frame) => void;

/** The agent checks its credit after each chunk it reads: the last may pass the window by one read. */
const OVERSHOOT = 1024 * 1024;

/**
 * What the remote process writes on stream `s`. A remote that ignores the window (more than
 * WINDOW unacknowledged) or sends after its Eof breaks the protocol: a ProtocolError, never
 * unbounded memory or a push after EOF.
 */
export class RemoteOutput extends Readable {
  private unacked = 0;
  private ended = false;

  constructor(
    private readonly send: Send,
    private readonly id: number,
    private readonly s: number,
  ) {
    super({ highWaterMark: WINDOW / 2 });
  }

  /** Called by the consumer's demand: acknowledge what it has taken so far, a batch at a time. */
  override _read(): void {
    if (this.unacked >= ACK_BATCH) {
      this.send({ t: T.Ack, id: this.id, s: this.s, n: this.unacked });
      this.unacked = 0;
    }
  }

  deliver(data: Uint8Array): void {
    if (this.ended) throw new ProtocolError(`data on stream ${this.s} of process ${this.id} after its end`);
    this.unacked += data.length;
    if (this.unacked > WINDOW + OVERSHOOT)
      throw new ProtocolError(
        `the remote sent ${this.unacked} bytes on stream ${this.s} of process ${this.id} without an acknowledgement (the window ` +
          `is ${WINDOW})`,
      );
    if (this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) this._read();
  }

  finish(): void {
    this.ended = true;
    this.push(null);
  }
}

/** What the remote process reads on stream `s`. */
export class RemoteInput extends Writable {
  private credit = WINDOW;
  private waiting: (() => void) | undefined;

  constructor(
    private readonly send: Send,
    private readonly id: number,
    private readonly s: number,
  ) {
    super({ highWaterMark: MAX_CHUNK });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += MAX_CHUNK) {
      const d = chunk.subarray(off, off + MAX_CHUNK);
      this.send({ t: T.Data, id: this.id, s: this.s, d });
      this.credit -= d.length;
    }
    if (this.credit > 0) done();
    else this.waiting = () => done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.send({ t: T.Eof, id: this.id, s: this.s });
    done();
  }

  acknowledge(n: number): void {
    this.credit += n;
    if (this.credit > 0 && this.waiting !== undefined) {
      const resume = this.waiting;
      this.waiting = undefined;
      resume();
    }
  }

  /** The process is gone: release a writer blocked on credit, and drop further input. */
  abandon(): void {
    this.credit = Infinity;
    this.acknowledge(0);
  }
}

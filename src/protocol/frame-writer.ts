/**
 * Frames written in one turn of the event loop leave in one write: one syscall and, over SSH,
 * one packet, where each frame was one of each (an exec is three to five small frames each
 * way; a burst of FUSE requests dozens). The batch leaves in the same turn (setImmediate: the
 * loop does not wait for I/O while one is due), so nothing waits for it. A large byte payload
 * is never copied: the batch goes first, with its head, then the payload as it is.
 */
import { encodeFrame } from './codec.js';
import type { Frame } from './frames.js';
import { splitFrame } from './payloads.js';

/** Payloads up to this size are copied into the batch; larger ones go out as they are. */
const COPY_UP_TO = 16 * 1024;
/** A batch this large goes at once. */
const BATCH_MAX = 256 * 1024;

export interface FrameSink {
  write(chunk: Uint8Array): boolean;
  /** Set by Writable streams while their buffer is over its mark. */
  readonly writableNeedDrain?: boolean;
}

export class FrameWriter {
  private batch: Uint8Array[] = [];
  private size = 0;
  private due = false;
  /** What the last write to the sink said (false: it wants a drain). */
  private flowing = true;

  constructor(private readonly out: FrameSink) {}

  /** Queues `frame`; false when the sink wants a drain (the caller should pause its producers). */
  write(frame: Frame): boolean {
    const parts = splitFrame(frame);
    if (parts === undefined) this.queue(encodeFrame(frame));
    else if (parts[1].length <= COPY_UP_TO) {
      this.queue(parts[0]);
      // Copied now, not at the flush: the caller may reuse its buffer once this returns.
      this.queue(Buffer.from(parts[1]));
    } else {
      this.queue(parts[0]);
      this.flush();
      this.flowing = this.out.write(parts[1]);
    }
    return typeof this.out.writableNeedDrain === 'boolean' ? !this.out.writableNeedDrain : this.flowing;
  }

  /** Writes what is queued now (before a write that must follow it, or at the end). */
  flush(): void {
    if (this.size === 0) return;
    const chunk = this.batch.length === 1 ? (this.batch[0] as Uint8Array) : Buffer.concat(this.batch, this.size);
    this.batch = [];
    this.size = 0;
    this.flowing = this.out.write(chunk);
  }

  private queue(chunk: Uint8Array): void {
    this.batch.push(chunk);
    this.size += chunk.length;
    if (this.size >= BATCH_MAX) this.flush();
    else if (!this.due) {
      this.due = true;
      setImmediate(() => {
        this.due = false;
        this.flush();
      });
    }
  }
}

/**
 * Writing a recording: the file is created 0600 (its directory 0700 when made here), records are
 * appended in order, env values matching `redact` become "[redacted]", and stdio capture stops
 * once `maxBytes` of it were written — commands are still recorded, and the footer says so.
 *
 * Header, command start and end records are written at once, with whatever queued before them
 * and what a background write is still carrying: a crash never loses a command that started or
 * ended. Stdio chunks are queued and written by one
 * background write(2) at a time (libuv's thread pool), all that queued meanwhile in one writev:
 * the relay that reports a chunk does not wait for the disk. Every record has its file position
 * from the moment it is queued. Should the queue pass QUEUE_LIMIT (a disk slower than the
 * stream), it is written synchronously then and there: the stream waits, nothing is dropped. So
 * a crash loses at most the stdio queued (≤ QUEUE_LIMIT), and an exit that skips teardown still
 * writes the queue (the 'exit' hook).
 */
import { close, mkdirSync, openSync, writev, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { encode } from 'cbor-x';
import type { RecordingRecord } from './records.js';

export interface RecorderOptions {
  /** Env values of variables whose names match are replaced by "[redacted]". */
  readonly redact: (name: string) => boolean;
  /** Stdio bytes captured at most (commands are recorded past it). */
  readonly maxBytes: number;
  /** Told once when a write fails (disk full…): later records are dropped, the session goes on. */
  readonly onError?: (err: Error) => void;
}

export const REDACTED = '[redacted]';

/** Bytes queued before a write is done synchronously instead. */
const QUEUE_LIMIT = 8 * 1024 * 1024;
/** Buffers per writev (Linux's IOV_MAX; a record is two to four). */
const MAX_IOV = 1024;

/** Writes `bufs` at `at`, the first `done` bytes of them already written (short writes resumed). */
function writeAllSync(fd: number, bufs: readonly Uint8Array[], at: number, done: number): void {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  while (done < total) {
    let skip = done;
    const rest: Uint8Array[] = [];
    for (const b of bufs) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(b.subarray(skip));
        skip = 0;
      }
    }
    const n = writevSync(fd, rest, at + done);
    if (n === 0) throw new Error(`no progress writing the recording at byte ${at + done}`);
    done += n;
  }
}

/** A Buffer: cbor-x writes a plain Uint8Array as a tagged typed array, not a byte string. */
const NO_BYTES = Buffer.alloc(0);

/** The head of a CBOR byte string of `n` bytes (major type 2, shortest form). */
function byteStringHead(n: number): Buffer {
  if (n < 24) return Buffer.from([0x40 + n]);
  if (n < 0x100) return Buffer.from([0x58, n]);
  const head = Buffer.allocUnsafe(n < 0x10000 ? 3 : 5);
  head[0] = n < 0x10000 ? 0x59 : 0x5a;
  if (n < 0x10000) head.writeUInt16BE(n, 1);
  else head.writeUInt32BE(n, 1);
  return head;
}

export class RecordingWriter {
  private readonly fd: number;
  private ioBytes = 0;
  private capped = false;
  private commands = 0;
  private closed = false;
  /** Where the queue starts in the file, and what it holds. */
  private queueAt = 0;
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** What the background write in flight holds, and where it goes: see writeQueueNow. */
  private inFlight: { bufs: Uint8Array[]; at: number } | undefined;
  private error: Error | undefined;
  private drained: (() => void)[] = [];
  private readonly onExit = (): void => this.writeQueueNow(true);

  constructor(
    readonly path: string,
    private readonly options: RecorderOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'wx', 0o600);
    process.on('exit', this.onExit);
  }

  /** Header, start, end, footer: the audit trail goes now, with what queued before it. */
  private write(record: Exclude<RecordingRecord, { k: 'io' }>): void {
    if (this.closed || this.error !== undefined) return;
    this.put([encode(record)], true); // a fresh slice of cbor-x's buffer: not overwritten later
  }

  /** Queues one record made of `parts`, behind its length; `now`: written before returning. */
  private put(parts: readonly Uint8Array[], now: boolean): void {
    const length = parts.reduce((n, p) => n + p.length, 0);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(length, 0);
    this.queue.push(head, ...parts);
    this.queued += 4 + length;
    if (now) this.writeQueueNow(true);
    else if (this.queued > QUEUE_LIMIT) this.writeQueueNow(false);
    else if (this.inFlight === undefined) this.writeQueue();
  }

  /** One background writev of what is queued; again when it is done, until the queue is empty. */
  private writeQueue(): void {
    if (this.queue.length === 0 || this.error !== undefined) {
      for (const done of this.drained.splice(0)) done();
      return;
    }
    const bufs = this.queue.splice(0, MAX_IOV);
    const at = this.queueAt;
    const length = bufs.reduce((n, b) => n + b.length, 0);
    this.queueAt += length;
    this.queued -= length;
    this.inFlight = { bufs, at };
    writev(this.fd, bufs, at, (err, written) => {
      this.inFlight = undefined;
      try {
        if (err !== null) throw err;
        if (written < length) writeAllSync(this.fd, bufs, at, written);
      } catch (e) {
        this.failed(e as Error);
      }
      this.writeQueue();
    });
  }

  /**
   * Writes the queue synchronously at its positions. `durable`: also what a background write is
   * still carrying — the same bytes at the same place, so writing them twice is harmless — or
   * the record written now would sit behind a hole until that write lands (a crash meanwhile,
   * or an exit that abandons it, and a reader stops at the hole).
   */
  private writeQueueNow(durable: boolean): void {
    try {
      if (durable && this.inFlight !== undefined) writeAllSync(this.fd, this.inFlight.bufs, this.inFlight.at, 0);
      while (this.queue.length > 0 && this.error === undefined) {
        const bufs = this.queue.splice(0, MAX_IOV);
        const length = bufs.reduce((n, b) => n + b.length, 0);
        writeAllSync(this.fd, bufs, this.queueAt, 0);
        this.queueAt += length;
        this.queued -= length;
      }
    } catch (e) {
      this.failed(e as Error);
    }
  }

  private failed(err: Error): void {
    if (this.error !== undefined) return;
    this.error = err;
    this.queue = [];
    this.options.onError?.(err);
  }

  header(record: Omit<Extract<RecordingRecord, { k: 'header' }>, 'k'>): void {
    this.write({ k: 'header', ...record });
  }

  start(record: Omit<Extract<RecordingRecord, { k: 'start' }>, 'k'>): void {
    this.commands++;
    const env = Object.fromEntries(Object.entries(record.env).map(([k, v]) => [k, this.options.redact(k) ? REDACTED : v]));
    this.write({ k: 'start', ...record, env });
  }

  /**
   * A stdio chunk. Its bytes are not copied into an encoding: cbor-x encodes the record with an
   * empty byte string (its last byte, 0x40), and that byte gives way to the head of a byte string
   * of the chunk's length (RFC 8949 major type 2), the chunk itself following as it is. The same
   * bytes as encode() of the whole record, without copying (and collecting) every chunk again.
   */
  io(seq: number, s: 0 | 1 | 2, d: Uint8Array, t = Date.now()): void {
    if (this.capped || this.closed || this.error !== undefined) return;
    if (this.ioBytes + d.length > this.options.maxBytes) {
      this.capped = true;
      return;
    }
    this.ioBytes += d.length;
    const empty = encode({ k: 'io', seq, t, s, d: NO_BYTES } satisfies RecordingRecord);
    this.put([empty.subarray(0, empty.length - 1), byteStringHead(d.length), d], false);
  }

  end(record: Omit<Extract<RecordingRecord, { k: 'end' }>, 'k'>): void {
    this.write({ k: 'end', ...record });
  }

  /** Writes the footer, waits for every record to reach the file, closes it; later records are dropped. */
  async close(t = Date.now()): Promise<void> {
    if (this.closed) return;
    this.write({ k: 'footer', t, commands: this.commands, capped: this.capped });
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.drained.push(resolve);
      if (this.inFlight === undefined) this.writeQueue();
    });
    process.off('exit', this.onExit);
    await new Promise<void>((resolve) => close(this.fd, () => resolve()));
  }
}

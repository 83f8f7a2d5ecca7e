/**
 * Writing a recording: the file is created 0600 (its directory 0700 when made here), records are
 * appended in order, env values matching `redact` become "[redacted]", and stdio capture stops
 * once `maxBytes` of it were written — commands are still recorded, and the footer says so.
 *
 * Header, command start and end records are in the file when their call returns, with every
 * record before them: a crash never loses a command that started or ended. Stdio records are
 * written in the background (append-file.ts): the relay that reports a chunk does not wait for
 * the disk, and a crash loses at most the stdio of the last moments. An exit that skips the
 * teardown still writes all of it.
 */
import { encode } from 'cbor-x';
import { AppendFile } from './append-file.js';
import type { RecordingRecord } from './records.js';

export interface RecorderOptions {
  /** Env values of variables whose names match are replaced by "[redacted]". */
  readonly redact: (name: string) => boolean;
  /** Stdio bytes captured at most (commands are recorded past it). */
  readonly maxBytes: number;
  /** Told once when a write fails (disk full…): later records are dropped, the session goes on. */
  readonly onError?: (err: Error) => void;
  /** The file's ring buffer and O_DIRECT (append-file.ts): tests vary them. */
  readonly file?: { readonly ringBytes?: number; readonly direct?: boolean };
}

export const REDACTED = '[redacted]';

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
  private readonly file: AppendFile;
  private ioBytes = 0;
  private capped = false;
  private commands = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly options: RecorderOptions,
  ) {
    this.file = new AppendFile(path, { ...options.file, onError: (err) => options.onError?.(err) });
  }

  /** Whether stdio bulk bypasses the page cache (O_DIRECT). */
  get direct(): boolean {
    return this.file.direct;
  }

  /** Header, start, end, footer: the audit trail goes now, with what was appended before it. */
  private write(record: Exclude<RecordingRecord, { k: 'io' }>): void {
    if (this.closed) return;
    this.put([encode(record)], true);
  }

  /** Appends one record made of `parts`, behind its length; `now`: in the file before returning. */
  private put(parts: readonly Uint8Array[], now: boolean): void {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(
      parts.reduce((n, p) => n + p.length, 0),
      0,
    );
    this.file.append([head, ...parts], now);
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
   * A stdio chunk. Its bytes are copied once, into the file's ring, not first into an encoding:
   * cbor-x encodes the record with an empty byte string (its last byte, 0x40), and that byte gives
   * way to the head of a byte string of the chunk's length (RFC 8949 major type 2), the chunk
   * itself following as it is. The same bytes as encode() of the whole record.
   */
  io(seq: number, s: 0 | 1 | 2, d: Uint8Array, t = Date.now()): void {
    if (this.capped || this.closed) return;
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
    await this.file.close();
  }
}

/**
 * Writing a recording: the file is created 0600 (its directory 0700 when made here), each
 * record is written on its own, in one write(2) (a crash loses at most the record in
 * hand), env values matching `redact` become "[redacted]", and stdio capture stops once
 * `maxBytes` of it were written — commands are still recorded, and the footer says so.
 */
import { closeSync, mkdirSync, openSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { encode } from 'cbor-x';
import type { RecordingRecord } from './records.js';

export interface RecorderOptions {
  /** Env values of variables whose names match are replaced by "[redacted]". */
  readonly redact: (name: string) => boolean;
  /** Stdio bytes captured at most (commands are recorded past it). */
  readonly maxBytes: number;
}

export const REDACTED = '[redacted]';

export class RecordingWriter {
  private readonly fd: number;
  private ioBytes = 0;
  private capped = false;
  private commands = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly options: RecorderOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'wx', 0o600);
  }

  private write(record: RecordingRecord): void {
    if (this.closed) return;
    const body = encode(record);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(body.length, 0);
    writevSync(this.fd, [head, body]); // one write(2), no copy to join them
  }

  header(record: Omit<Extract<RecordingRecord, { k: 'header' }>, 'k'>): void {
    this.write({ k: 'header', ...record });
  }

  start(record: Omit<Extract<RecordingRecord, { k: 'start' }>, 'k'>): void {
    this.commands++;
    const env = Object.fromEntries(Object.entries(record.env).map(([k, v]) => [k, this.options.redact(k) ? REDACTED : v]));
    this.write({ k: 'start', ...record, env });
  }

  io(seq: number, s: 0 | 1 | 2, d: Uint8Array, t = Date.now()): void {
    if (this.capped) return;
    if (this.ioBytes + d.length > this.options.maxBytes) {
      this.capped = true;
      return;
    }
    this.ioBytes += d.length;
    this.write({ k: 'io', seq, t, s, d });
  }

  end(record: Omit<Extract<RecordingRecord, { k: 'end' }>, 'k'>): void {
    this.write({ k: 'end', ...record });
  }

  /** Writes the footer and closes the file; later records are dropped. */
  close(t = Date.now()): void {
    if (this.closed) return;
    this.write({ k: 'footer', t, commands: this.commands, capped: this.capped });
    this.closed = true;
    closeSync(this.fd);
  }
}

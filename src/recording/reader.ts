/**
 * Reading a recording, whole or cut short: every complete record, and — when the file does not
 * end cleanly (a crash mid-write, a corrupt length, bytes that are not CBOR) — the byte offset
 * where the readable part ends and why.
 */
import { decode } from 'cbor-x';
import { MAX_RECORD, type RecordingRecord } from './records.js';

export interface ReadRecording {
  readonly records: RecordingRecord[];
  /** Set when the file does not end with a complete record: where the good part ends, and why. */
  readonly damage?: { readonly offset: number; readonly why: string };
}

const KINDS = new Set(['header', 'start', 'io', 'end', 'footer']);

export function readRecording(bytes: Uint8Array): ReadRecording {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: RecordingRecord[] = [];
  let at = 0;
  const damaged = (why: string): ReadRecording => ({ records, damage: { offset: at, why } });
  while (at < buf.length) {
    if (buf.length - at < 4) return damaged('the last record is cut short (a crash while writing it?)');
    const length = buf.readUInt32BE(at);
    if (length === 0 || length > MAX_RECORD) return damaged(`a record length of ${length} bytes cannot be right (corrupt data)`);
    if (buf.length - at - 4 < length) return damaged('the last record is cut short (a crash while writing it?)');
    let record: unknown;
    try {
      record = decode(buf.subarray(at + 4, at + 4 + length));
    } catch {
      return damaged('a record is not valid CBOR (corrupt data)');
    }
    const kind = (record as { k?: unknown } | null)?.k;
    if (typeof kind !== 'string' || !KINDS.has(kind)) return damaged('a record of no known kind (corrupt data, or a newer mproxy)');
    records.push(record as RecordingRecord);
    at += 4 + length;
  }
  return { records };
}

/**
 * Large byte payloads, the bulk of the traffic (exec output, file reads and writes). Written:
 * the frame's CBOR is made by hand up to its byte string, which follows uncopied (same bytes on
 * the wire as cbor-x would write). Read: a decoder that asks gets a large read's result or a
 * write's data as the pieces the transport delivered, never joined into one buffer.
 */
import { joinBytes } from './file-ops.js';
import { T, type Frame } from './frames.js';

/** Bytes as the pieces they arrived in: nothing joins them unless asked. */
export class Pieces {
  constructor(readonly parts: readonly Buffer[]) {}

  join(): Buffer {
    return joinBytes(this.parts);
  }
}

/** CBOR head of an unsigned integer below 2^32 (major type 0) or of a string that long (2 bytes, 3 text). */
function cborHead(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** A short ASCII text string (a key or an op name). */
function text(s: string): number[] {
  return [...cborHead(3, s.length), ...Buffer.from(s, 'latin1')];
}

/** A whole number as cbor-x writes it: an integer below 2^32, a float64 above (so it decodes as a number, not a bigint). */
function uint(n: number): number[] {
  if (n < 0x100000000) return cborHead(0, n);
  const f = Buffer.allocUnsafe(8);
  f.writeDoubleBE(n);
  return [0xfb, ...f];
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** The CBOR of a frame up to its trailing byte string, and that string; undefined for other frames. */
function headOf(frame: Frame): [number[], Uint8Array] | undefined {
  if (frame.t === T.Data)
    return [[0xa4, ...text('t'), T.Data, ...text('id'), ...uint(frame.id), ...text('s'), ...uint(frame.s), ...text('d')], frame.d];
  if (frame.t === T.FileResp && frame.r instanceof Uint8Array && frame.e === undefined)
    return [[0xa3, ...text('t'), T.FileResp, ...text('id'), ...uint(frame.id), ...text('r')], frame.r];
  if (frame.t === T.FileOp && frame.op === 'write' && frame.a.length === 3) {
    const [h, pos, data] = frame.a;
    if (!(data instanceof Uint8Array) || !isUint(h) || !isUint(pos)) return undefined;
    return [
      [
        0xa4,
        ...text('t'),
        T.FileOp,
        ...text('id'),
        ...uint(frame.id),
        ...text('op'),
        ...text('write'),
        ...text('a'),
        0x83,
        ...uint(h),
        ...uint(pos),
      ],
      data,
    ];
  }
  return undefined;
}

/** Payloads of file operations smaller than this go through the encoder (cheaper than two writes). */
const UNCOPIED = 4096;

/** The size of a FileResp's or write FileOp's byte payload (0: none). */
function payloadBytes(frame: Frame): number {
  if (frame.t === T.FileResp) return frame.r instanceof Uint8Array ? frame.r.length : 0;
  if (frame.t === T.FileOp && frame.op === 'write') return frame.a[2] instanceof Uint8Array ? frame.a[2].length : 0;
  return 0;
}

/** A frame as its length and CBOR head, and the payload to write after it uncopied; undefined: encode it whole. */
export function splitFrame(frame: Frame): [Buffer, Uint8Array] | undefined {
  const found = frame.t === T.Data || payloadBytes(frame) >= UNCOPIED ? headOf(frame) : undefined;
  if (found === undefined) return undefined;
  const [head, payload] = found;
  const bytesHead = cborHead(2, payload.length);
  const out = Buffer.allocUnsafe(4 + head.length + bytesHead.length);
  out.writeUInt32BE(head.length + bytesHead.length + payload.length, 0);
  out.set(head, 4);
  out.set(bytesHead, 4 + head.length);
  return [out, payload];
}

/** A Data frame as its head and payload (exec output and input). */
export function encodeDataFrame(id: number, s: number, d: Uint8Array): [Buffer, Uint8Array] {
  return splitFrame({ t: T.Data, id, s, d }) as [Buffer, Uint8Array];
}

/** Frames at least this long are delivered in pieces, when they end in a byte string. */
export const PIECES_FROM = 64 * 1024;
/** The longest head piecesHead reads: a write FileOp's, up to its data's own head. */
export const HEAD_MAX = 64;

/** The argument of the CBOR item of `major` type at `at`, and where the item's contents start. */
function cborArg(buf: Buffer, at: number, major: number): [number, number] | undefined {
  const b = buf[at];
  if (b === undefined || b >> 5 !== major) return undefined;
  const minor = b & 0x1f;
  if (minor < 24) return [minor, at + 1];
  const size = minor === 24 ? 1 : minor === 25 ? 2 : minor === 26 ? 4 : 0;
  if (size === 0 || at + 1 + size > buf.length) return undefined;
  return [buf.readUIntBE(at + 1, size), at + 1 + size];
}

/** An unsigned integer, a float64 or a text string at `at`, and where the next item starts. */
function scalar(buf: Buffer, at: number): [number | string, number] | undefined {
  if (buf[at] === 0xfb) return at + 9 <= buf.length ? [buf.readDoubleBE(at + 1), at + 9] : undefined;
  const n = cborArg(buf, at, 0);
  if (n !== undefined) return n;
  const s = cborArg(buf, at, 3);
  if (s === undefined || s[1] + s[0] > buf.length) return undefined;
  return [buf.toString('latin1', s[1], s[1] + s[0]), s[1] + s[0]];
}

export interface PiecesHead {
  /** Where the payload starts in the buffer given. */
  readonly start: number;
  /** The frame, its payload given. */
  frame(payload: Pieces): unknown;
}

/**
 * A frame (length `length`, its length field at buf[0]) that headOf wrote with a read's result
 * (FileResp r) or a write's data (FileOp write a[2]) to its end: where the payload starts.
 * Anything else: undefined, and the frame is decoded whole.
 */
export function piecesHead(buf: Buffer, length: number): PiecesHead | undefined {
  const map = cborArg(buf, 4, 5);
  if (map === undefined) return undefined;
  const fields: Record<string, unknown> = {};
  let at = map[1];
  for (let i = 0; i < map[0]; i++) {
    const key = scalar(buf, at);
    if (key === undefined || typeof key[0] !== 'string') return undefined;
    at = key[1];
    const lastField = i === map[0] - 1;
    const list = lastField ? cborArg(buf, at, 4) : undefined;
    const before: (number | string)[] = [];
    if (list !== undefined) {
      at = list[1];
      for (let k = 0; k < list[0] - 1; k++) {
        const item = scalar(buf, at);
        if (item === undefined) return undefined;
        before.push(item[0]);
        at = item[1];
      }
    }
    if (!lastField) {
      const value = scalar(buf, at);
      if (value === undefined) return undefined;
      fields[key[0]] = value[0];
      at = value[1];
      continue;
    }
    const bytes = cborArg(buf, at, 2);
    if (bytes === undefined || bytes[1] + bytes[0] !== 4 + length) return undefined;
    const name = key[0];
    const isRead = fields['t'] === T.FileResp && name === 'r' && list === undefined;
    const isWrite = fields['t'] === T.FileOp && fields['op'] === 'write' && name === 'a' && list !== undefined;
    if (!isRead && !isWrite) return undefined;
    return { start: bytes[1], frame: (payload) => ({ ...fields, [name]: list === undefined ? payload : [...before, payload] }) };
  }
  return undefined;
}

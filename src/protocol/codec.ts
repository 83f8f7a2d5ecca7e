/**
 * Frames to bytes and back: `u32be length | CBOR map`. The decoder first skips whatever comes
 * before the agent's sync marker (shell chatter), then checks every frame against the shape of
 * its type; anything else — an oversized length, bytes that are not CBOR, an unknown type, a
 * field of the wrong kind — is a ProtocolError that says which, never a crash or a guess.
 */
import { Encoder } from 'cbor-x';
import { MAX_FRAME, SYNC_MARKER, T, type Frame } from './frames.js';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** CBOR head of an unsigned integer below 2^32 (major type 0) or a byte or text string of that length (2, 3). */
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

/**
 * The CBOR of a frame whose last field is a byte string, written by hand up to that field, so
 * the bulk of the traffic (exec output, file reads and writes) is never copied through the
 * encoder. Same bytes on the wire as encodeFrame; undefined for every other frame.
 */
function headOf(frame: Frame): [number[], Uint8Array] | undefined {
  if (frame.t === T.Data) return [[0xa4, ...text('t'), T.Data, ...text('id'), ...uint(frame.id), ...text('s'), ...uint(frame.s), ...text('d')], frame.d];
  if (frame.t === T.FileResp && frame.r instanceof Uint8Array && frame.e === undefined) return [[0xa3, ...text('t'), T.FileResp, ...text('id'), ...uint(frame.id), ...text('r')], frame.r];
  if (frame.t === T.FileOp && frame.op === 'write' && frame.a.length === 3) {
    const [h, pos, data] = frame.a;
    if (!(data instanceof Uint8Array) || !isUint(h) || !isUint(pos)) return undefined;
    return [[0xa4, ...text('t'), T.FileOp, ...text('id'), ...uint(frame.id), ...text('op'), ...text('write'), ...text('a'), 0x83, ...uint(h), ...uint(pos)], data];
  }
  return undefined;
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A frame as its length and CBOR head, and the payload to write after it uncopied. */
function split(frame: Frame): [Buffer, Uint8Array] | undefined {
  const found = headOf(frame);
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
  return split({ t: T.Data, id, s, d }) as [Buffer, Uint8Array];
}

/** Large payloads are written after their head, uncopied: a 1 MiB read is not copied twice more. */
const UNCOPIED = 4096;

/** Write one frame to a stream (large byte payloads without copying them); false: the stream wants a drain. */
export function writeFrame(out: { write(chunk: Uint8Array): boolean }, frame: Frame): boolean {
  const parts = frame.t === T.Data || frameBytes(frame) >= UNCOPIED ? split(frame) : undefined;
  if (parts === undefined) return out.write(encodeFrame(frame));
  out.write(parts[0]);
  return out.write(parts[1]);
}

/** The size of a FileResp's or write FileOp's byte payload (0: none). */
function frameBytes(frame: Frame): number {
  if (frame.t === T.FileResp) return frame.r instanceof Uint8Array ? frame.r.length : 0;
  if (frame.t === T.FileOp && frame.op === 'write') return frame.a[2] instanceof Uint8Array ? frame.a[2].length : 0;
  return 0;
}

export function encodeFrame(frame: Frame): Buffer {
  const body = cbor.encode(frame);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

type Check = (v: unknown) => boolean;
const u32: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const int: Check = (v) => typeof v === 'number' && Number.isInteger(v);
const num: Check = (v) => typeof v === 'number';
const str: Check = (v) => typeof v === 'string';
const bytes: Check = (v) => v instanceof Uint8Array;
const any: Check = () => true;
const nullable = (c: Check): Check => (v) => v === null || c(v);
const list = (c: Check): Check => (v) => Array.isArray(v) && v.every(c);
const record = (c: Check): Check => (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && Object.values(v).every(c);
const oneOf = (...values: string[]): Check => (v) => typeof v === 'string' && values.includes(v);
const shape = (fields: Record<string, Check>): Check => (v) => record(any)(v) && Object.entries(fields).every(([k, c]) => c((v as Record<string, unknown>)[k]));

/** Required fields per frame type; `?`-suffixed names are optional. */
const SHAPES: Readonly<Record<number, Readonly<Record<string, Check>>>> = {
  [T.Hello]: { v: u32, caps: list(str), 'info?': shape({ node: str, platform: str, arch: str, pid: u32, home: str, user: str, path: str, shell: str }) },
  [T.Exec]: { id: u32, argv: (v) => list(str)(v) && (v as unknown[]).length > 0, env: record(str), cwd: str, fds: list(u32), 'fdModes?': str, 'pty?': shape({ cols: u32, rows: u32, term: str }) },
  [T.Data]: { id: u32, s: u32, d: bytes },
  [T.Eof]: { id: u32, s: u32 },
  [T.Ack]: { id: u32, s: u32, n: u32 },
  [T.Signal]: { id: u32, sig: str },
  [T.Resize]: { id: u32, cols: u32, rows: u32 },
  [T.Exit]: { id: u32, code: nullable(int), sig: nullable(str) },
  [T.Error]: { id: u32, code: str, msg: str },
  [T.Log]: { level: oneOf('debug', 'info', 'warn', 'error'), msg: str },
  [T.PathQuery]: { id: u32, dirs: list(str) },
  [T.PathInfo]: { id: u32, entries: list(shape({ name: str, path: str, mode: u32, size: num, mtime: num })) },
  [T.FileOp]: { id: u32, op: str, a: list(any) },
  [T.FileResp]: { id: u32, 'r?': any, 'e?': str, 'm?': str },
  [T.Watch]: { id: u32, path: bytes },
  [T.Invalidate]: { id: u32, name: nullable(bytes), 'k?': oneOf('change', 'rename') },
  [T.Unwatch]: { id: u32 },
};

const TYPE_NAMES = new Map<number, string>(Object.entries(T).map(([name, t]) => [t, name]));

export function frameName(t: number): string {
  return TYPE_NAMES.get(t) ?? `type ${t}`;
}

/** Narrow a decoded CBOR value to a Frame, or say what is wrong with it. */
export function checkFrame(raw: unknown): Frame {
  if (!record(any)(raw)) throw new ProtocolError('malformed frame: not a CBOR map');
  const t = (raw as Record<string, unknown>)['t'];
  const fields = typeof t === 'number' ? SHAPES[t] : undefined;
  if (fields === undefined) throw new ProtocolError(`unknown frame type ${typeof t === 'bigint' ? `${t}n` : JSON.stringify(t) ?? String(t)}`);
  for (const [key, check] of Object.entries(fields)) {
    const optional = key.endsWith('?');
    const name = optional ? key.slice(0, -1) : key;
    const value = (raw as Record<string, unknown>)[name];
    if (optional && value === undefined) continue;
    if (!check(value)) throw new ProtocolError(`malformed ${frameName(t as number)} frame: field \`${name}\` is ${value === undefined ? 'missing' : 'of the wrong kind'}`);
  }
  return raw as unknown as Frame;
}

/** A large read's bytes as the pieces they arrived in (FrameDecoder's `pieces` option): nothing joins them. */
export class Pieces {
  constructor(readonly parts: readonly Buffer[]) {}

  join(): Buffer {
    return this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
  }
}

/** FileResp frames at least this long are delivered in pieces, when their result is bytes. */
const PIECES_FROM = 64 * 1024;

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

/** The longest head fileRespHead reads: start, id, `r`, the bytes' own head. */
const HEAD_MAX = 7 + 5 + 2 + 5;
const FILE_RESP_START = Buffer.from([0xa3, 0x61, 0x74, T.FileResp, 0x62, 0x69, 0x64]);
const R_KEY = Buffer.from([0x61, 0x72]);

/**
 * A frame (length `length`, from buf[0]) that is FileResp {t, id, r: bytes} as headOf writes
 * it: its id and where the bytes start. Anything else: undefined (decoded whole instead).
 */
function fileRespHead(buf: Buffer, length: number): { id: number; start: number } | undefined {
  if (buf.length < 4 + FILE_RESP_START.length || !buf.subarray(4, 4 + FILE_RESP_START.length).equals(FILE_RESP_START)) return undefined;
  const id = cborArg(buf, 4 + FILE_RESP_START.length, 0);
  if (id === undefined || !buf.subarray(id[1], id[1] + 2).equals(R_KEY)) return undefined;
  const bytes = cborArg(buf, id[1] + 2, 2);
  if (bytes === undefined || bytes[1] + bytes[0] !== 4 + length) return undefined;
  return { id: id[0], start: bytes[1] };
}

/**
 * Incremental decoder. `expectSync`: skip bytes up to the agent's sync marker first, keeping
 * (a bounded amount of) them so a failed start can show what the remote printed instead.
 */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  /** Chunks of a frame still incomplete: joined once, when the frame is whole (no quadratic copying). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 0;
  private synced: boolean;
  private skipped: Buffer[] = [];
  private skippedBytes = 0;
  /** A FileResp whose bytes are arriving in pieces: how many are still to come. */
  private tail: { readonly id: number; readonly parts: Buffer[]; remaining: number } | undefined;
  private readonly pieces: boolean;

  /** `pieces`: large FileResp byte results arrive as Pieces, not copied into one buffer. */
  constructor(
    private readonly onFrame: (frame: Frame) => void,
    options: { expectSync?: boolean; pieces?: boolean } = {},
  ) {
    this.synced = options.expectSync !== true;
    this.pieces = options.pieces === true;
  }

  /** What came before the sync marker (up to 64 KiB), for error messages. */
  get preamble(): string {
    return Buffer.concat(this.skipped).toString('utf8');
  }

  push(chunk: Buffer): void {
    if (this.tail !== undefined) {
      chunk = this.feedTail(chunk);
      if (chunk.length === 0) return;
    }
    if (this.needed > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needed) return;
      chunk = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.needed = 0;
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.synced && !this.sync()) return;
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length > MAX_FRAME) throw new ProtocolError(`frame length ${length} exceeds the ${MAX_FRAME}-byte limit (corrupt stream?)`);
      if (this.buffer.length < 4 + length) {
        if (this.pieces && length >= PIECES_FROM) {
          // The head may straddle chunks: wait for it (a few bytes kept, not the frame).
          if (this.buffer.length < 4 + HEAD_MAX) return;
          if (this.startTail(length)) return;
        }
        this.needed = 4 + length;
        this.pending = [this.buffer];
        this.pendingBytes = this.buffer.length;
        this.buffer = Buffer.alloc(0);
        return;
      }
      const body = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      let raw: unknown;
      try {
        raw = cbor.decode(body);
      } catch (err) {
        throw new ProtocolError(`malformed frame: not valid CBOR (${err instanceof Error ? err.message : String(err)})`);
      }
      this.onFrame(checkFrame(raw));
    }
  }

  /** Takes the bytes of the FileResp in pieces; returns what follows it. */
  private feedTail(chunk: Buffer): Buffer {
    const tail = this.tail as NonNullable<typeof this.tail>;
    const take = Math.min(tail.remaining, chunk.length);
    if (take > 0) tail.parts.push(chunk.subarray(0, take));
    tail.remaining -= take;
    if (tail.remaining > 0) return Buffer.alloc(0);
    this.tail = undefined;
    this.onFrame({ t: T.FileResp, id: tail.id, r: new Pieces(tail.parts) });
    return chunk.subarray(take);
  }

  /** The incomplete frame in the buffer is a FileResp with bytes: gather them in pieces. */
  private startTail(length: number): boolean {
    const head = fileRespHead(this.buffer, length);
    if (head === undefined) return false;
    const first = this.buffer.subarray(head.start);
    this.tail = { id: head.id, parts: first.length > 0 ? [first] : [], remaining: 4 + length - this.buffer.length };
    this.buffer = Buffer.alloc(0);
    return true;
  }

  private sync(): boolean {
    const at = this.buffer.indexOf(SYNC_MARKER);
    const keep = at < 0 ? Math.max(0, this.buffer.length - SYNC_MARKER.length + 1) : at;
    if (this.skippedBytes < 65536 && keep > 0) {
      this.skipped.push(this.buffer.subarray(0, Math.min(keep, 65536 - this.skippedBytes)));
      this.skippedBytes += keep;
    }
    this.buffer = this.buffer.subarray(keep);
    if (at < 0) return false;
    this.buffer = this.buffer.subarray(SYNC_MARKER.length);
    this.synced = true;
    return true;
  }
}

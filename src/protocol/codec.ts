/**
 * Frames to bytes and back: `u32be length | CBOR map`. The decoder first skips whatever comes
 * before the agent's sync marker (shell chatter), then checks every frame against the shape of
 * its type; anything else — an oversized length, bytes that are not CBOR, an unknown type, a
 * field of the wrong kind — is a ProtocolError that says which, never a crash or a guess.
 */
import { Encoder } from 'cbor-x';
import { MAX_FRAME, SYNC_MARKER, T, type Frame } from './frames.js';
import { HEAD_MAX, Pieces, PIECES_FROM, piecesHead, splitFrame, type PiecesHead } from './payloads.js';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Write one frame to a stream (large byte payloads without copying them); false: the stream wants a drain. */
export function writeFrame(out: { write(chunk: Uint8Array): boolean }, frame: Frame): boolean {
  const parts = splitFrame(frame);
  if (parts === undefined) return out.write(encodeFrame(frame));
  out.write(parts[0]);
  return out.write(parts[1]);
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
const nullable =
  (c: Check): Check =>
  (v) =>
    v === null || c(v);
const list =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c);
const record =
  (c: Check): Check =>
  (v) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && Object.values(v).every(c);
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v);
const shape =
  (fields: Record<string, Check>): Check =>
  (v) =>
    record(any)(v) && Object.entries(fields).every(([k, c]) => c((v as Record<string, unknown>)[k]));

/** A TCP port on a host, or a Unix socket path: exactly one of the two. */
const netAddress: Check = (v) =>
  record(any)(v) &&
  (Object.keys(v as object).length === 2
    ? str((v as Record<string, unknown>)['host']) && u32((v as Record<string, unknown>)['port'])
    : Object.keys(v as object).length === 1 && str((v as Record<string, unknown>)['path']));

/** Required fields per frame type; `?`-suffixed names are optional. */
const SHAPES: Readonly<Record<number, Readonly<Record<string, Check>>>> = {
  [T.Hello]: {
    v: u32,
    caps: list(str),
    'info?': shape({ node: str, platform: str, arch: str, pid: u32, home: str, user: str, path: str, shell: str }),
  },
  [T.Exec]: {
    id: u32,
    argv: (v) => list(str)(v) && (v as unknown[]).length > 0,
    env: record(str),
    cwd: str,
    fds: list(u32),
    'fdModes?': str,
    'pty?': shape({ cols: u32, rows: u32, term: str }),
    'joins?': list(shape({ fd: (v) => u32(v) && (v as number) <= 2, pipe: str, end: oneOf('r', 'w') })),
    'files?': list(
      shape({
        fds: (v) => list(u32)(v) && (v as number[]).length > 0 && (v as number[]).every((fd) => fd <= 255),
        path: str,
        mode: oneOf('r', 'w', 'rw'),
        append: (v) => v === undefined || v === true,
      }),
    ),
  },
  [T.Data]: { id: u32, s: u32, d: bytes },
  [T.Eof]: { id: u32, s: u32 },
  [T.Ack]: { id: u32, s: u32, n: u32 },
  [T.Signal]: { id: u32, sig: str },
  [T.Resize]: { id: u32, cols: u32, rows: u32 },
  [T.Exit]: { id: u32, code: nullable(int), sig: nullable(str), 'pos?': list(int) },
  [T.Error]: { id: u32, code: str, msg: str },
  [T.Log]: { level: oneOf('debug', 'info', 'warn', 'error'), msg: str },
  [T.PathQuery]: { id: u32, dirs: list(str) },
  [T.PathInfo]: { id: u32, entries: list(shape({ name: str, path: str, mode: u32, size: num, mtime: num })) },
  [T.FileOp]: { id: u32, op: str, a: list(any) },
  [T.FileResp]: { id: u32, 'r?': any, 'e?': str, 'm?': str },
  [T.Watch]: { id: u32, path: bytes },
  [T.Invalidate]: { id: u32, name: nullable(bytes), 'k?': oneOf('change', 'rename') },
  [T.Unwatch]: { id: u32 },
  [T.Connect]: { id: u32, to: netAddress },
  [T.Opened]: { id: u32 },
  [T.Listen]: { id: u32, at: netAddress },
  [T.Listening]: { id: u32, port: u32 },
  [T.Accepted]: { id: u32, listener: u32 },
  [T.Unlisten]: { id: u32 },
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
  if (fields === undefined)
    throw new ProtocolError(`unknown frame type ${typeof t === 'bigint' ? `${t}n` : (JSON.stringify(t) ?? String(t))}`);
  for (const [key, check] of Object.entries(fields)) {
    const optional = key.endsWith('?');
    const name = optional ? key.slice(0, -1) : key;
    const value = (raw as Record<string, unknown>)[name];
    if (optional && value === undefined) continue;
    if (!check(value))
      throw new ProtocolError(
        `malformed ${frameName(t as number)} frame: field \`${name}\` is ${value === undefined ? 'missing' : 'of the wrong kind'}`,
      );
  }
  return raw as unknown as Frame;
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
  /** A frame whose bytes are arriving in pieces: how many are still to come. */
  private tail: { readonly head: PiecesHead; readonly parts: Buffer[]; remaining: number } | undefined;
  private readonly pieces: boolean;

  /** `pieces`: large byte payloads (a read's result, a write's data) arrive as Pieces, not copied into one buffer. */
  constructor(
    private readonly onFrame: (frame: Frame) => void,
    options: { expectSync?: boolean; pieces?: boolean } = {},
  ) {
    this.synced = options.expectSync !== true;
    this.pieces = options.pieces === true;
  }

  /**
   * What came before the sync marker (up to 64 KiB), for error messages — with the tail still
   * held back in case it begins the marker: a remote that printed one short line and ended
   * (the boot script's "not ready") said less than a marker's length.
   */
  get preamble(): string {
    return Buffer.concat(this.synced ? this.skipped : [...this.skipped, this.buffer]).toString('utf8');
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

  /** Takes the payload in pieces; returns what follows its frame. */
  private feedTail(chunk: Buffer): Buffer {
    const tail = this.tail as NonNullable<typeof this.tail>;
    const take = Math.min(tail.remaining, chunk.length);
    if (take > 0) tail.parts.push(chunk.subarray(0, take));
    tail.remaining -= take;
    if (tail.remaining > 0) return Buffer.alloc(0);
    this.tail = undefined;
    this.onFrame(checkFrame(tail.head.frame(new Pieces(tail.parts))));
    return chunk.subarray(take);
  }

  /** The incomplete frame in the buffer ends in a large byte payload: gather it in pieces. */
  private startTail(length: number): boolean {
    const head = piecesHead(this.buffer, length);
    if (head === undefined) return false;
    const first = this.buffer.subarray(head.start);
    this.tail = { head, parts: first.length > 0 ? [first] : [], remaining: 4 + length - this.buffer.length };
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

/**
 * The shim ↔ broker wire format (native/shim/main.c holds the other end): every frame is a u32
 * little-endian length of what follows, a u8 type, then the payload.
 */

import { timingSafeEqual } from 'node:crypto';

/** Frame types, shim → broker. */
export const FromShim = { Request: 1, Data: 2, Eof: 3, Signal: 4, Resize: 5 } as const;
/**
 * Frame types, broker → shim. LOCAL (the path to exec here) or REMOTE (empty) answers the
 * request; the shim reads no input before either, so a local command finds all of it.
 */
export const ToShim = { Local: 16, Data: 17, Eof: 18, Exit: 19, Error: 20, Remote: 21, Seek: 22 } as const;

export interface ShimFrame {
  readonly type: number;
  readonly payload: Buffer;
}

/**
 * The largest frame a shim sends: a REQUEST carries argv and environment, which the kernel caps
 * far below this (ARG_MAX); DATA frames are 64 KiB.
 */
export const MAX_SHIM_FRAME = 16 * 1024 * 1024;

export class WireError extends Error {
  override readonly name = 'WireError';
}

/**
 * Splits a byte stream into frames; `push` returns the whole frames completed so far, or throws
 * a WireError for a length no shim sends (nothing that long is ever buffered).
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ShimFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: ShimFrame[] = [];
    let at = 0;
    while (this.pending.length - at >= 4) {
      const len = this.pending.readUInt32LE(at);
      if (len < 1 || len > MAX_SHIM_FRAME) throw new WireError(`a frame of ${len} bytes (the limit is ${MAX_SHIM_FRAME})`);
      if (this.pending.length - at - 4 < len) break;
      frames.push({ type: this.pending[at + 4] ?? 0, payload: this.pending.subarray(at + 5, at + 4 + len) });
      at += 4 + len;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }
}

/** The header of a frame whose payload is `payloadLength` bytes (written separately: no copy). */
export function frameHeader(type: number, payloadLength: number, fd?: number): Buffer {
  const extra = fd === undefined ? 0 : 1;
  const head = Buffer.allocUnsafe(5 + extra);
  head.writeUInt32LE(1 + extra + payloadLength, 0);
  head[4] = type;
  if (fd !== undefined) head[5] = fd;
  return head;
}

export function exitFrame(code: number | null, signal: number): Buffer {
  const body = Buffer.alloc(5);
  body.writeInt32LE(code ?? -1, 0);
  body[4] = signal;
  return Buffer.concat([frameHeader(ToShim.Exit, 5), body]);
}

export function textFrame(type: number, text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([frameHeader(type, body.length), body]);
}

/** What a shim asks for: the REQUEST frame's fields. */
export interface ShimRequest {
  readonly token: string;
  /** The path the program exec'd (absolute), or '' when the shim ran as a PATH stub. */
  readonly path: string;
  readonly cwd: string;
  /** The first line of a `#!` script, or ''. */
  readonly shebang: string;
  readonly tty?: { readonly rows: number; readonly cols: number };
  readonly fds: readonly { readonly fd: number; readonly dir: 'r' | 'w' }[];
  /** Signals (numbers) the command was started with ignored: `nohup`, `trap '' INT`. */
  readonly ignored: readonly number[];
  /** Its stdin, stdout and stderr that are pipes (native/shim/pipes.c): joinable on the remote? */
  readonly pipes: readonly PipeEnd[];
  /** Its fds that are files of a FUSE mount (native/shim/files.c): the remote may open them itself. */
  readonly files: readonly FileFd[];
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** One of fds 0-2 that is a local pipe: its end, the pipe's inode, and whether it may be joined. */
export interface PipeEnd {
  readonly fd: number;
  readonly end: 'r' | 'w';
  readonly ino: string;
  /** The shim holds its end alone and another process holds the other one. */
  readonly joinable: boolean;
}

/** One of the command's fds that is a regular file of a FUSE mount, as the shim found it. */
export interface FileFd {
  readonly fd: number;
  readonly mode: 'r' | 'w' | 'rw';
  readonly append: boolean;
  /** Its position when the command started. */
  readonly offset: number;
  /** A lower fd of the command sharing its open file description (`> f 2>&1`), or -1. */
  readonly same: number;
  /** No other process of the session holds the file open here. */
  readonly alone: boolean;
  /** The file as the command sees it (inside the sandbox: the mount's local path). */
  readonly path: string;
}

function parseFiles(spec: string): FileFd[] {
  const files: FileFd[] = [];
  for (const line of spec.split('\n')) {
    const m = /^(\d+) (rw|r|w)(a?) (\d+) (-1|\d+) ([x-]) (\/.*)$/.exec(line);
    if (m === null || Number(m[1]) > 255) continue;
    files.push({
      fd: Number(m[1]),
      mode: m[2] === 'rw' ? 'rw' : m[2] === 'r' ? 'r' : 'w',
      append: m[3] === 'a',
      offset: Number(m[4]),
      same: Number(m[5]),
      alone: m[6] === 'x',
      path: m[7] ?? '',
    });
  }
  return files;
}

/** SEEK: u8 fd, i64 offset — where the remote left a file it opened for the command. */
export function seekFrame(fd: number, offset: number): Buffer {
  const body = Buffer.alloc(9);
  body[0] = fd;
  body.writeBigInt64LE(BigInt(offset), 1);
  return Buffer.concat([frameHeader(ToShim.Seek, 9), body]);
}

function parsePipes(spec: string): PipeEnd[] {
  const ends: PipeEnd[] = [];
  for (const item of spec.split(' ')) {
    const m = /^([0-2])([rw])(\d+)([x-])$/.exec(item);
    if (m !== null) ends.push({ fd: Number(m[1]), end: m[2] === 'r' ? 'r' : 'w', ino: m[3] ?? '', joinable: m[4] === 'x' });
  }
  return ends;
}

/** Is `token` (as the shim sends it: hex) the session's token? Constant-time; never throws. */
export function tokenMatches(token: string, expected: Buffer): boolean {
  if (token.length !== expected.length * 2 || !/^[0-9a-f]*$/i.test(token)) return false;
  return timingSafeEqual(Buffer.from(token, 'hex'), expected);
}

export function parseRequest(payload: Buffer): ShimRequest | undefined {
  const parts = payload.toString('utf8').split('\0');
  if (parts.at(-1) === '') parts.pop();
  const [token, path, cwd, shebang, tty, fds, ignored, pipes, files, count] = parts;
  const argc = Number(count);
  const head = 10;
  if (
    token === undefined ||
    path === undefined ||
    cwd === undefined ||
    shebang === undefined ||
    tty === undefined ||
    fds === undefined ||
    ignored === undefined ||
    pipes === undefined ||
    files === undefined ||
    !Number.isInteger(argc) ||
    argc < 1 ||
    parts.length < head + argc
  )
    return undefined;
  const env: Record<string, string> = {};
  for (const entry of parts.slice(head + argc)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const [rows, cols] = tty.split(' ').map(Number);
  return {
    token,
    path,
    cwd,
    shebang,
    ...(rows !== undefined && cols !== undefined && rows > 0 && cols > 0 ? { tty: { rows, cols } } : {}),
    fds:
      fds === '' ? [] : fds.split(' ').map((f) => ({ fd: Number(f.slice(0, -1)), dir: f.endsWith('r') ? ('r' as const) : ('w' as const) })),
    ignored: ignored
      .split(' ')
      .filter((n) => /^\d+$/.test(n))
      .map(Number),
    pipes: parsePipes(pipes),
    files: parseFiles(files),
    argv: parts.slice(head, head + argc),
    env,
  };
}

/**
 * An append-only file whose bulk is written off the caller's thread and, where the filesystem
 * takes it, past the page cache. Appended bytes are copied into a ring (WebAssembly memory: it
 * starts on a page boundary, which O_DIRECT needs) and reach the file three ways:
 *
 *  - in the background, one write at a time, once a MiB is waiting: the whole 4 KiB pages
 *    appended since the last write, through an O_DIRECT descriptor. The kernel neither copies
 *    them into the page cache nor allocates page-cache memory for them — on a VM that hands
 *    freed memory back to its host, fresh page cache costs four times the copy itself (the
 *    recording part of bench/up.ts). Where O_DIRECT is refused (the filesystem, or no aligned
 *    memory), everything appended, through the plain descriptor;
 *  - at once, sync(): everything not yet written, through the plain descriptor — what a crash
 *    must not lose, what an exit leaves, and what a stream that paused left waiting (TAIL_MS);
 *  - past the ring, when the bytes do not fit it even after sync() (larger than the ring, or a
 *    background write still reads the part they would overwrite): straight from the caller's
 *    buffers, synchronously. The caller waits; nothing is dropped. A ring filled while a direct
 *    write was in flight means the disk takes direct writes slower than they come (NFS…): plain
 *    writes from then on, the page cache absorbing bursts.
 *
 * A background write covers only bytes past what is written, so no byte is written twice except
 * where sync() overtakes a background write in flight: both then carry the same bytes to the
 * same place. The file never holds a byte that was not appended (no padding to a page).
 */
import { closeSync, constants, mkdirSync, openSync, writev, writevSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AppendFileOptions {
  /** Told once when a write fails (disk full…): later bytes are dropped. */
  readonly onError: (err: Error) => void;
  /** The ring's size, a multiple of 64 KiB (tests make it small to wrap it and pass it). */
  readonly ringBytes?: number;
  /** false: plain writes only, as where the filesystem refuses O_DIRECT. */
  readonly direct?: boolean;
}

/** O_DIRECT's unit: offsets, lengths and memory of direct writes are multiples of it. */
const PAGE = 4096;
const RING_BYTES = 32 * 1024 * 1024;
/** Most bytes one background write carries: the rest of the ring stays free to append to. */
const MAX_WRITE = 8 * 1024 * 1024;
/** Fewest bytes a background write starts with: fewer, larger writes cost the kernel less. */
const MIN_WRITE = 1024 * 1024;
/** How long appended bytes wait for more before sync() writes them. */
const TAIL_MS = 100;

/** Writes `bufs` at `at`, their first `done` bytes already written (short writes resumed). */
export function writeAllSync(fd: number, bufs: readonly Uint8Array[], at: number, done = 0): void {
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
    const n = writevSync(fd, rest.slice(0, 1024), at + done);
    if (n === 0) throw new Error(`no progress writing ${total - done} bytes at byte ${at + done}`);
    done += n;
  }
}

/** The one part of WebAssembly used here (the compiler's lib for Node does not declare it). */
declare const WebAssembly: { Memory: new (size: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

/** Page-aligned memory for the ring, or plain memory (no O_DIRECT then) where it cannot be had. */
function ringMemory(bytes: number): { ring: Buffer; aligned: boolean } {
  try {
    const pages = bytes / 65536;
    return { ring: Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer), aligned: true };
  } catch {
    return { ring: Buffer.alloc(bytes), aligned: false };
  }
}

function openDirect(path: string): number | undefined {
  const flag = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (flag === undefined) return undefined;
  try {
    return openSync(path, constants.O_WRONLY | flag);
  } catch {
    return undefined;
  }
}

export class AppendFile {
  private readonly fd: number;
  private directFd: number | undefined;
  private readonly ring: Buffer;
  /** Bytes appended: the file's length once all is written. */
  private filled = 0;
  /** Every byte before this is in the file. */
  private written = 0;
  private inFlight: { readonly from: number; readonly to: number } | undefined;
  private tail: NodeJS.Timeout | undefined;
  private error: Error | undefined;
  private closed = false;
  /** Set when direct writes cannot keep up or are refused: the direct descriptor goes when idle. */
  private plainFromNow = false;
  private idle: (() => void)[] = [];
  private readonly onExit = (): void => this.sync();

  /** Creates `path` 0600 (never an existing file), its directory 0700 when made here. */
  constructor(
    readonly path: string,
    private readonly options: AppendFileOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'wx', 0o600);
    const memory = ringMemory(options.ringBytes ?? RING_BYTES);
    this.ring = memory.ring;
    if (memory.aligned && options.direct !== false) this.directFd = openDirect(path);
    process.on('exit', this.onExit);
  }

  /** Whether bulk writes bypass the page cache (O_DIRECT). */
  get direct(): boolean {
    return this.directFd !== undefined;
  }

  /** Appends `parts` in order; `now`: in the file before this returns. */
  append(parts: readonly Uint8Array[], now: boolean): void {
    if (this.error !== undefined || this.closed) return;
    const n = parts.reduce((sum, p) => sum + p.length, 0);
    if (!this.fits(n)) {
      // The disk takes direct writes slower than they come (NFS…): the page cache absorbs them from here on.
      if (this.inFlight !== undefined && n <= this.ring.length) this.plainFromNow = true;
      this.sync();
    }
    if (this.error !== undefined) return;
    if (this.fits(n)) this.copyIn(parts);
    else {
      this.guard(() => writeAllSync(this.fd, parts, this.filled));
      this.written = this.filled + n;
    }
    this.filled += n;
    if (now) this.sync();
    else this.pump();
  }

  /** Writes everything appended and not yet written, through the plain descriptor. */
  sync(): void {
    if (this.error !== undefined || this.written >= this.filled) return;
    this.guard(() => writeAllSync(this.fd, this.slices(this.written, this.filled), this.written));
    this.written = this.filled;
  }

  /** Writes what is left, waits for a background write in flight, closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sync();
    clearTimeout(this.tail);
    if (this.inFlight !== undefined) await new Promise<void>((resolve) => this.idle.push(resolve));
    process.off('exit', this.onExit);
    closeSync(this.fd);
    if (this.directFd !== undefined) closeSync(this.directFd);
  }

  /** Whether `n` more bytes go in the ring without overwriting one still to be written or being written. */
  private fits(n: number): boolean {
    const keep = Math.min(this.written, this.inFlight?.from ?? Infinity);
    return this.filled + n - keep <= this.ring.length;
  }

  private copyIn(parts: readonly Uint8Array[]): void {
    let at = this.filled % this.ring.length;
    for (const part of parts) {
      let from = 0;
      while (from < part.length) {
        const k = Math.min(part.length - from, this.ring.length - at);
        this.ring.set(from === 0 && k === part.length ? part : part.subarray(from, from + k), at);
        from += k;
        at = (at + k) % this.ring.length;
      }
    }
  }

  /** The ring's memory holding file bytes [from, to): one piece, or two where it wraps. */
  private slices(from: number, to: number): Uint8Array[] {
    const at = from % this.ring.length;
    const end = at + (to - from);
    if (end <= this.ring.length) return [this.ring.subarray(at, end)];
    return [this.ring.subarray(at), this.ring.subarray(0, end - this.ring.length)];
  }

  /** Starts the next background write if none is in flight; keeps a part page from waiting long. */
  private pump(): void {
    if (this.inFlight === undefined && !this.closed && this.error === undefined) {
      const align = this.directFd === undefined ? 1 : PAGE;
      const end = Math.floor(this.filled / align) * align;
      if (end - this.written >= Math.min(MIN_WRITE, this.ring.length / 4)) this.startWrite(end, align);
    }
    if (this.written < this.filled && this.tail === undefined && !this.closed && this.error === undefined) {
      this.tail = setTimeout(() => {
        this.tail = undefined;
        if (this.inFlight === undefined) this.sync();
      }, TAIL_MS).unref();
    }
    if (this.inFlight === undefined) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Writes [written, end) in the background; a part page it starts in goes first, at once. */
  private startWrite(end: number, align: number): void {
    const page = Math.ceil(this.written / align) * align;
    if (page > this.written) {
      this.guard(() => writeAllSync(this.fd, this.slices(this.written, page), this.written));
      if (this.error !== undefined) return;
      this.written = page;
    }
    if (page >= end) return;
    const from = page;
    const to = Math.min(end, from + MAX_WRITE);
    const fd = this.directFd ?? this.fd;
    this.inFlight = { from, to };
    writev(fd, this.slices(from, to), from, (err, n) => this.wrote(from, to, fd, err, n));
  }

  private wrote(from: number, to: number, fd: number, err: NodeJS.ErrnoException | null, n: number): void {
    this.inFlight = undefined;
    if (err !== null && err.code === 'EINVAL' && fd === this.directFd) {
      // The device wants a larger alignment than a page: plain writes from here on.
      this.plainFromNow = true;
    } else if (err !== null) this.failed(err);
    else {
      if (n < to - from) this.guard(() => writeAllSync(this.fd, this.slices(from, to), from, n));
      this.written = Math.max(this.written, to);
    }
    if (this.plainFromNow && this.directFd !== undefined) {
      closeSync(this.directFd);
      this.directFd = undefined;
    }
    this.pump();
  }

  private guard(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.failed(err as Error);
    }
  }

  private failed(err: Error): void {
    if (this.error !== undefined) return;
    this.error = err;
    clearTimeout(this.tail);
    this.options.onError(err);
  }
}

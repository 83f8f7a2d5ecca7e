/**
 * Reading and writing one file of the mount by node (the kernel sends no OPEN: READ and WRITE
 * name the inode only). Remote handles are opened on demand — read-only for reads, write-only
 * for writes, the first write waiting for its open so a refusal (EACCES) is that write's error
 * — and closed when idle. Reads run ahead of a sequential reader in 1 MiB blocks; writes are
 * acknowledged at once and coalesced into runs sent several at a time, each WRITE counted
 * settled only when its run is on the remote; a failure is reported by the next FLUSH or
 * FSYNC. After a reconnect a handle names nothing: it is opened again by path when nothing
 * written is outstanding, and is EIO otherwise.
 */
import { constants } from 'node:fs';
import type { FileOpArgs, FileOpName, FileOpResult } from '../protocol/file-ops.js';
import { MAX_IO } from '../protocol/file-ops.js';
import { RemoteFsError } from '../remote/host.js';

const BLOCK = MAX_IO;
const AHEAD = 8;
/** Runs of writes sent and not yet acknowledged, at most. */
const WRITES_IN_FLIGHT = 4;

function lengthOf(pieces: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}

/** Bytes [from, to) of `pieces`, as views of them (never empty pieces). */
function slice(pieces: readonly Uint8Array[], from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of pieces) {
    const lo = Math.max(from - at, 0);
    const hi = Math.min(to - at, p.length);
    if (hi > lo) out.push(lo === 0 && hi === p.length ? p : p.subarray(lo, hi));
    at += p.length;
    if (at >= to) break;
  }
  return out;
}

export interface NodeIoContext {
  /**
   * Each WRITE is answered once it is on the remote (the kernel's writeback cache merges and
   * pipelines them, and close waits for them); else WRITEs are answered at once and coalesced.
   */
  readonly writeThrough: boolean;
  call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>>;
  /** The file's remote path now (it follows renames). */
  remote(): Buffer;
  generation(): number;
  /** `n` WRITE requests are settled: a FLUSH need not wait for them. */
  settle(n: number): void;
}

interface Handle {
  readonly h: number;
  readonly generation: number;
}

interface Run {
  readonly pos: number;
  readonly chunks: Buffer[];
  bytes: number;
  requests: number;
}

export class NodeIo {
  private reader: Promise<Handle> | undefined;
  private writer: Promise<Handle> | undefined;
  private lastBlock = -1;
  private sequentialReads = 0;
  private readonly blocks = new Map<number, Promise<readonly Uint8Array[]>>();
  private run: Run | undefined;
  private readonly sending: { readonly done: Promise<void>; readonly from: number; readonly to: number }[] = [];
  /** The first failed write since the last flush, and how many WRITEs it leaves unsettled. */
  private writeError: unknown;
  private failedRequests = 0;
  lastUsed = Date.now();

  constructor(private readonly ctx: NodeIoContext) {}

  private open(flags: number): Promise<Handle> {
    const generation = this.ctx.generation();
    return this.ctx.call('open', this.ctx.remote(), flags, 0).then((h) => ({ h, generation }));
  }

  /** A handle valid on the current connection, opened (again) when needed. */
  private async handle(kind: 'reader' | 'writer'): Promise<Handle> {
    let pending = this[kind];
    if (pending !== undefined) {
      const got = await pending.catch((err: unknown) => {
        if (this[kind] === pending) this[kind] = undefined;
        throw err;
      });
      if (got.generation === this.ctx.generation()) return got;
      if (kind === 'writer' && !this.clean) throw new RemoteFsError('EIO', 'the connection was lost with writes outstanding', 'write');
    }
    pending = this.open(kind === 'reader' ? constants.O_RDONLY : constants.O_WRONLY);
    this[kind] = pending;
    return this.handle(kind);
  }

  /** A write handle from CREATE, so a file made read-only by its mode can still be written. */
  adoptWriter(h: number): void {
    this.writer = Promise.resolve({ h, generation: this.ctx.generation() });
  }

  /** Bytes [pos, pos + len), in the pieces they arrived in (short at the end of the file). */
  async read(pos: number, len: number): Promise<readonly Uint8Array[]> {
    this.lastUsed = Date.now();
    await this.flush();
    // The kernel's readahead sends several reads at once, out of order: near is sequential enough.
    const first = Math.floor(pos / BLOCK);
    const sequential = pos === 0 || (this.lastBlock >= 0 && first >= this.lastBlock - 1 && first <= this.lastBlock + AHEAD);
    this.sequentialReads = sequential ? this.sequentialReads + 1 : 0;
    this.lastBlock = Math.max(first, sequential ? this.lastBlock : first);
    if (this.sequentialReads < 2) return this.direct(pos, len);
    for (let b = first; b <= first + AHEAD; b++) {
      if (this.blocks.has(b)) continue;
      const ahead = this.direct(b * BLOCK, BLOCK);
      ahead.catch(() => undefined); // A block nobody reads after all may fail unheard.
      this.blocks.set(b, ahead);
    }
    // The blocks this read spans, taken now: the kernel has many reads in flight, and a later
    // one drops blocks behind it while this one still waits for its first.
    const last = Math.floor((pos + Math.max(len, 1) - 1) / BLOCK);
    const spanned: Promise<readonly Uint8Array[]>[] = [];
    for (let b = first; b <= last; b++) {
      const block = this.blocks.get(b) ?? this.direct(b * BLOCK, BLOCK);
      block.catch(() => undefined); // Heard by the await below, unless an earlier block failed first.
      spanned.push(block);
    }
    for (const b of this.blocks.keys()) if (b < first - 1) this.blocks.delete(b);
    const parts: Uint8Array[] = [];
    for (let b = first; b <= last; b++) {
      const block = await (spanned[b - first] as Promise<readonly Uint8Array[]>);
      const size = lengthOf(block);
      const part = slice(block, Math.max(pos - b * BLOCK, 0), Math.min(size, pos + len - b * BLOCK));
      parts.push(...part);
      // A short block is the end of the file.
      if (size < BLOCK) break;
    }
    return parts;
  }

  private async direct(pos: number, len: number, again = true): Promise<readonly Uint8Array[]> {
    const reader = await this.handle('reader');
    try {
      const got = await this.ctx.call('read', reader.h, pos, len);
      return got instanceof Uint8Array ? [got] : got;
    } catch (err) {
      // A handle sent as the connection was replaced names nothing on the new one: open again, once.
      if (!again || !(err instanceof RemoteFsError) || err.code !== 'EBADF') throw err;
      if (this.reader !== undefined && (await this.reader.catch(() => undefined)) === reader) this.reader = undefined;
      return this.direct(pos, len, false);
    }
  }

  /** Accepts one WRITE request's bytes (kept as they are: the binding gave us our own copy). */
  async write(pos: number, data: Buffer): Promise<void> {
    this.lastUsed = Date.now();
    this.blocks.clear();
    if (this.ctx.writeThrough) {
      const { h } = await this.handle('writer');
      await this.ctx.call('write', h, pos, data);
      this.ctx.settle(1);
      return;
    }
    if (this.writer === undefined) await this.handle('writer');
    const run = this.run;
    if (run !== undefined && (run.pos + run.bytes !== pos || run.bytes + data.length > BLOCK)) await this.send();
    if (this.run === undefined) this.run = { pos, chunks: [data], bytes: data.length, requests: 1 };
    else {
      this.run.chunks.push(data);
      this.run.bytes += data.length;
      this.run.requests++;
    }
    if (this.run.bytes >= BLOCK) await this.send();
  }

  /** Sends the current run without waiting for it, unless too many are already on their way. */
  private async send(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    if (run === undefined) return;
    const from = run.pos;
    const to = run.pos + run.bytes;
    // The remote serves requests concurrently: a run overlapping one still on its way waits for it.
    await Promise.all(this.sending.filter((s) => s.from < to && from < s.to).map((s) => s.done));
    const done = this.handle('writer')
      .then(({ h }) =>
        this.ctx.call('write', h, run.pos, run.chunks.length === 1 ? (run.chunks[0] as Buffer) : Buffer.concat(run.chunks, run.bytes)),
      )
      .then(
        () => this.ctx.settle(run.requests),
        (err: unknown) => {
          this.writeError ??= err;
          this.failedRequests += run.requests;
        },
      );
    const entry = { done, from, to };
    this.sending.push(entry);
    void done.finally(() => this.sending.splice(this.sending.indexOf(entry), 1));
    if (this.sending.length >= WRITES_IN_FLIGHT) await this.sending[0]?.done;
  }

  /** Sends what is pending and waits for every write; rejects with the first error since the last flush. */
  async flush(): Promise<void> {
    if (this.clean) return;
    await this.send();
    await Promise.all(this.sending.map((s) => s.done));
    const err = this.writeError;
    this.writeError = undefined;
    this.ctx.settle(this.failedRequests);
    this.failedRequests = 0;
    if (err !== undefined) throw err;
  }

  /** fsync(2): everything written is on the remote's disk. */
  async sync(): Promise<void> {
    await this.flush();
    if (this.writer !== undefined) await this.ctx.call('fsync', (await this.handle('writer')).h);
  }

  /** truncate(2) after what is pending, through the write handle where there is one. */
  async truncate(size: number): Promise<void> {
    await this.flush();
    this.blocks.clear();
    if (this.writer !== undefined) await this.ctx.call('ftruncate', (await this.handle('writer')).h, size);
    else await this.ctx.call('truncate', this.ctx.remote(), size);
  }

  /** Nothing to send and nothing to report. */
  get clean(): boolean {
    return this.run === undefined && this.sending.length === 0 && this.writeError === undefined;
  }

  /** Drops what was read ahead: the remote changed the file. */
  forgetContents(): void {
    this.blocks.clear();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.blocks.clear();
      for (const kind of ['reader', 'writer'] as const) {
        const pending = this[kind];
        this[kind] = undefined;
        if (pending === undefined) continue;
        const got = await pending.catch(() => undefined);
        if (got !== undefined && got.generation === this.ctx.generation()) await this.ctx.call('close', got.h).catch(() => undefined);
      }
    }
  }
}

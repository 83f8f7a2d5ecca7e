/**
 * One file opened through the mount: its remote handle (none when its contents are served from
 * memory), sequential readahead in blocks kept in flight ahead of the reader, and writes
 * coalesced into runs that go out when full, when a write is not contiguous, and on flush,
 * fsync and close — write-through by then, so what fsync acknowledged is on the remote.
 */
import { MAX_IO } from '../protocol/file-ops.js';
import type { RemoteFs } from '../remote/host.js';

const BLOCK = MAX_IO;
const AHEAD = 8;
/** Runs of writes sent and not yet acknowledged, at most. */
const WRITES_IN_FLIGHT = 4;

export class OpenFile {
  private lastBlock = -1;
  private sequentialReads = 0;
  private readonly blocks = new Map<number, Promise<Buffer>>();
  private run: { pos: number; chunks: Buffer[]; bytes: number } | undefined;
  private readonly sending: { readonly done: Promise<void>; readonly from: number; readonly to: number }[] = [];
  /** A failed write that went out late: reported by the next flush, fsync or close. */
  private writeError: unknown;

  constructor(
    readonly path: string,
    readonly flags: number,
    private readonly fs: RemoteFs,
    readonly handle: number | undefined,
    /** Which connection the handle belongs to: after a reconnect it means nothing. */
    readonly generation: number,
    /** Contents served from memory (a small file known unchanged). */
    readonly memory?: Buffer,
  ) {}

  async read(pos: number, len: number): Promise<Buffer> {
    if (this.memory !== undefined) return this.memory.subarray(pos, pos + len);
    await this.flushWrites();
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
    for (const b of this.blocks.keys()) if (b < first - 1) this.blocks.delete(b);
    const parts: Buffer[] = [];
    for (let at = pos; at < pos + len; ) {
      const b = Math.floor(at / BLOCK);
      const block = await (this.blocks.get(b) ?? this.direct(b * BLOCK, BLOCK));
      const part = block.subarray(at - b * BLOCK, at - b * BLOCK + (pos + len - at));
      parts.push(part);
      // A short block is the end of the file.
      if (block.length < BLOCK || part.length === 0) break;
      at += part.length;
    }
    return parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts);
  }

  private async direct(pos: number, len: number): Promise<Buffer> {
    if (this.handle === undefined) return Buffer.alloc(0);
    return Buffer.from(await this.fs.call('read', this.handle, pos, len));
  }

  /** Takes a copy of `data` (the caller's buffer is reused) into the current run. */
  async write(pos: number, data: Buffer): Promise<void> {
    this.blocks.clear();
    const run = this.run;
    if (run !== undefined && (run.pos + run.bytes !== pos || run.bytes + data.length > BLOCK)) await this.send();
    const copy = Buffer.from(data);
    if (this.run === undefined) this.run = { pos, chunks: [copy], bytes: copy.length };
    else {
      this.run.chunks.push(copy);
      this.run.bytes += copy.length;
    }
  }

  /** Sends the current run without waiting for it, unless too many are already on their way. */
  private async send(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    if (run === undefined || this.handle === undefined) return;
    const from = run.pos;
    const to = run.pos + run.bytes;
    // The agent serves requests concurrently: a run overlapping one still on its way waits for it.
    await Promise.all(this.sending.filter((s) => s.from < to && from < s.to).map((s) => s.done));
    const done = this.fs.call('write', this.handle, run.pos, Buffer.concat(run.chunks, run.bytes)).then(
      () => undefined,
      (err: unknown) => void (this.writeError ??= err),
    );
    const entry = { done, from, to };
    this.sending.push(entry);
    void done.finally(() => this.sending.splice(this.sending.indexOf(entry), 1));
    if (this.sending.length >= WRITES_IN_FLIGHT) await this.sending[0]?.done;
  }

  /** Sends the pending run and waits for every write; rejects with the first error since the last flush. */
  async flushWrites(): Promise<void> {
    await this.send();
    await Promise.all(this.sending.map((s) => s.done));
    const err = this.writeError;
    this.writeError = undefined;
    if (err !== undefined) throw err;
  }

  get hasPendingWrites(): boolean {
    return this.run !== undefined || this.sending.length > 0;
  }

  /** Nothing to send and nothing to report: a flush can answer at once. */
  get clean(): boolean {
    return this.run === undefined && this.sending.length === 0 && this.writeError === undefined;
  }

  async close(): Promise<void> {
    try {
      await this.flushWrites();
    } finally {
      this.blocks.clear();
      if (this.handle !== undefined) await this.fs.call('close', this.handle).catch(() => undefined);
    }
  }
}

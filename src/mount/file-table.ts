/**
 * The files a mount has open, by the numbers FUSE knows them by: opened from memory where the
 * contents are held and current, whole in one round trip where small, with a remote handle
 * otherwise; reopened by path after a reconnect when nothing written is outstanding; and which
 * paths have writes held back (their cached attributes cannot be trusted until those settle).
 */
import { constants } from 'node:fs';
import type { FileOpArgs, FileOpName, FileOpResult, WireStat } from '../protocol/file-ops.js';
import type { RemoteFs } from '../remote/host.js';
import { SMALL_FILE, type ContentCache } from './content-cache.js';
import { parentOf, type MetaCache } from './meta-cache.js';
import { OpenFile } from './open-file.js';
import type { Prefetcher } from './prefetch.js';

export const WRITE_FLAGS = constants.O_WRONLY | constants.O_RDWR | constants.O_TRUNC | constants.O_APPEND | constants.O_CREAT;

export interface FileTableContext {
  readonly fs: RemoteFs;
  readonly meta: MetaCache;
  readonly content: ContentCache;
  readonly prefetcher: Prefetcher | undefined;
  /** A remote file operation under the mount's deadline. */
  call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>>;
  remote(path: string): Buffer;
  generation(): number;
  lstat(path: string): Promise<WireStat>;
}

export class FileTable {
  private readonly files = new Map<number, OpenFile>();
  private readonly dirty = new Set<string>();
  private nextFd = 1;

  constructor(private readonly ctx: FileTableContext) {}

  /** The open file as it is, valid handle or not (for answers that need none). */
  peek(fd: number): OpenFile | undefined {
    return this.files.get(fd);
  }

  isDirty(path: string): boolean {
    return this.dirty.has(path);
  }

  wrote(path: string): void {
    this.dirty.add(path);
  }

  private add(file: OpenFile): number {
    const fd = this.nextFd++;
    this.files.set(fd, file);
    return fd;
  }

  /** A read-only open of a file whose contents are held and known current, without a round trip. */
  fromMemory(path: string, flags: number): number | undefined {
    if ((flags & 3) !== constants.O_RDONLY || (flags & WRITE_FLAGS) !== 0) return undefined;
    const st = this.ctx.meta.attr(path);
    const held = st === undefined || st === null ? undefined : this.ctx.content.get(path, st);
    return held === undefined ? undefined : this.add(new OpenFile(path, flags, this.ctx.fs, undefined, this.ctx.generation(), held));
  }

  async open(path: string, flags: number, mode: number): Promise<number> {
    const { ctx } = this;
    if ((flags & 3) !== constants.O_RDONLY || (flags & WRITE_FLAGS) !== 0) {
      const handle = await ctx.call('open', ctx.remote(path), flags, mode);
      ctx.meta.changed(path);
      ctx.content.drop(path);
      return this.add(new OpenFile(path, flags, ctx.fs, handle, ctx.generation()));
    }
    const st = await ctx.lstat(path);
    const held = ctx.content.get(path, st) ?? (await ctx.prefetcher?.pending(path));
    if (held !== undefined) return this.add(new OpenFile(path, flags, ctx.fs, undefined, ctx.generation(), held));
    ctx.prefetcher?.reading(parentOf(path));
    if ((st.mode & constants.S_IFMT) === constants.S_IFREG && st.size <= SMALL_FILE) {
      // Small: read it whole in one round trip, serve it from memory, keep it for next time.
      const data = Buffer.from(await ctx.call('readFile', ctx.remote(path), st.size + 1));
      if (data.length === st.size) ctx.content.put(path, st, data);
      return this.add(new OpenFile(path, flags, ctx.fs, undefined, ctx.generation(), data));
    }
    const handle = await ctx.call('open', ctx.remote(path), flags, 0);
    return this.add(new OpenFile(path, flags, ctx.fs, handle, ctx.generation()));
  }

  /**
   * The open file, with a handle valid on the current connection: one from before a reconnect
   * names nothing (or something else) there, so it is opened again by path when nothing written
   * through it is outstanding, and is EIO otherwise.
   */
  async get(fd: number): Promise<OpenFile> {
    const f = this.files.get(fd);
    if (f === undefined) throw Object.assign(new Error('EBADF'), { code: 'EBADF' });
    if (f.handle === undefined || f.generation === this.ctx.generation()) return f;
    if (!f.clean) throw Object.assign(new Error('EIO'), { code: 'EIO' });
    const reopenFlags = f.flags & ~(constants.O_CREAT | constants.O_EXCL | constants.O_TRUNC);
    const handle = await this.ctx.call('open', this.ctx.remote(f.path), reopenFlags, 0);
    const fresh = new OpenFile(f.path, f.flags, this.ctx.fs, handle, this.ctx.generation());
    this.files.set(fd, fresh);
    return fresh;
  }

  /** Removes `fd` from the table; the caller closes it. */
  take(fd: number): OpenFile | undefined {
    const f = this.files.get(fd);
    this.files.delete(fd);
    return f;
  }

  /** Sends what every file open on `path` holds back. */
  async flushPath(path: string): Promise<void> {
    if (!this.dirty.has(path)) return;
    await Promise.all([...this.files.values()].filter((f) => f.path === path).map((f) => f.flushWrites()));
    this.settled(path);
  }

  /** Writes to `path` went out: what is cached of it is old, and it is clean unless another open file holds more. */
  settled(path: string): void {
    this.ctx.meta.changed(path);
    this.ctx.content.drop(path);
    if (![...this.files.values()].some((f) => f.path === path && f.hasPendingWrites)) this.dirty.delete(path);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.close().catch(() => undefined)));
    this.files.clear();
  }
}

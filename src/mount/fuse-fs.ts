/**
 * The POSIX surface of one mount: FUSE callbacks served from the caches where they can be and
 * from the RemoteHost's file operations otherwise, each under a deadline (EIO, never a hang).
 * Errors are the remote's errno. Paths are those FUSE gives (UTF-8 text); remote names that are
 * not UTF-8 cannot be shown through it and are left out of listings.
 */
import { constants } from 'node:fs';
import type { FileOpArgs, FileOpName, FileOpResult, WireStat } from '../protocol/file-ops.js';
import type { RemoteHost } from '../remote/host.js';
import { ContentCache } from './content-cache.js';
import { E, negErrno, withDeadline } from './errno.js';
import type { Cb, FuseOps, FuseStat, ValueCb } from './fuse.js';
import { FileTable, WRITE_FLAGS } from './file-table.js';
import { join, MetaCache } from './meta-cache.js';
import { Prefetcher } from './prefetch.js';
import { DirWatches } from './watches.js';

export interface MountFsOptions {
  /** Absolute directory on the remote. */
  readonly remoteRoot: string;
  readonly readOnly: boolean;
  /** Remote ids shown as the local user's (owner = "local"), or undefined to show them as they are. */
  readonly mapIds?: { readonly remoteUid: number; readonly remoteGid: number; readonly localUid: number; readonly localGid: number };
  /** How long entries are trusted without change notices (ms). */
  readonly ttlMs: number;
  readonly opTimeoutMs: number;
  /** Fetch small files of listed directories ahead (where file operations are cheap: the agent). */
  readonly prefetch: boolean;
}

/** With change notices an entry lives until it changes; this only bounds a missed notice. */
const WATCHED_LIFETIME = 60_000;

export class MountFs {
  readonly meta: MetaCache;
  readonly content = new ContentCache();
  readonly watches: DirWatches;
  private readonly files: FileTable;
  private readonly prefetcher: Prefetcher | undefined;
  private readonly root: Buffer;

  constructor(
    private readonly host: RemoteHost,
    private readonly opts: MountFsOptions,
  ) {
    this.root = Buffer.from(opts.remoteRoot.replace(/\/+$/, ''));
    this.watches = new DirWatches(host, (dir) => this.remote(dir), (dir, name) => {
      if (name === null) {
        this.meta.changedBelow(dir);
        this.content.dropBelow(dir);
      } else {
        this.meta.changed(join(dir, name));
        this.content.drop(join(dir, name));
      }
    });
    this.meta = new MetaCache((dir) => (this.watches.isWatched(dir) ? WATCHED_LIFETIME : opts.ttlMs));
    this.prefetcher = opts.prefetch ? new Prefetcher(host.fs, this.content, (path) => this.remote(path)) : undefined;
    this.files = new FileTable({
      fs: host.fs,
      meta: this.meta,
      content: this.content,
      prefetcher: this.prefetcher,
      call: (op, ...args) => this.call(op, ...args),
      remote: (path) => this.remote(path),
      generation: () => host.generation ?? 0,
      lstat: (path) => this.lstat(path),
    });
  }

  private remote(path: string): Buffer {
    return path === '/' ? this.root : Buffer.concat([this.root, Buffer.from(path)]);
  }

  private call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> {
    return withDeadline(this.host.fs.call(op, ...args), this.opts.opTimeoutMs, op);
  }

  private fuseStat(st: WireStat): FuseStat {
    const m = this.opts.mapIds;
    const uid = m !== undefined && st.uid === m.remoteUid ? m.localUid : st.uid;
    const gid = m !== undefined && st.gid === m.remoteGid ? m.localGid : st.gid;
    return { mode: st.mode, uid, gid, size: st.size, dev: st.dev, nlink: st.nlink, ino: st.ino, rdev: st.rdev, blksize: 4096, blocks: st.blocks, atime: st.atimeMs, mtime: st.mtimeMs, ctime: st.ctimeMs };
  }

  /**
   * lstat as the program must see it: writes still held in open files are sent first (the size
   * and mtime are the remote's to say), then asked afresh.
   */
  private async settledStat(path: string): Promise<WireStat> {
    await this.files.flushPath(path);
    return this.lstat(path);
  }

  /** lstat through the cache; absent paths are remembered as such. */
  async lstat(path: string): Promise<WireStat> {
    const cached = this.meta.attr(path);
    if (cached === null) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    if (cached !== undefined) return cached;
    try {
      const st = await this.call('lstat', this.remote(path));
      this.meta.setAttr(path, st);
      return st;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') this.meta.setAttr(path, null);
      throw err;
    }
  }

  private async listing(dir: string): Promise<{ names: string[]; stats: WireStat[] }> {
    const names = this.meta.listing(dir);
    if (names !== undefined) {
      const stats = names.map((n) => this.meta.attr(join(dir, n)));
      if (stats.every((s): s is WireStat => s !== undefined && s !== null)) return { names: [...names], stats };
    }
    this.watches.ensure(dir);
    const entries = await this.call('readdir', this.remote(dir));
    const out: { names: string[]; stats: WireStat[] } = { names: [], stats: [] };
    for (const e of entries) {
      const name = Buffer.from(e.name).toString();
      if (!Buffer.from(name).equals(Buffer.from(e.name))) continue;
      const st = e.st ?? (await this.call('lstat', this.remote(join(dir, name))).catch(() => undefined));
      if (st === undefined) continue;
      this.meta.setAttr(join(dir, name), st);
      out.names.push(name);
      out.stats.push(st);
    }
    this.meta.setListing(dir, out.names);
    this.prefetcher?.listed(dir, out.names.map((name, i) => ({ path: join(dir, name), st: out.stats[i] as WireStat })));
    return out;
  }

  /**
   * access(2) as the kernel would decide it for the calling local user, on the attributes as
   * shown (ids mapped); the remote still has the last word when the operation is made.
   */
  private checkAccess(st: FuseStat, mode: number): void {
    if ((mode & constants.W_OK) !== 0) this.writable();
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const deny = (): never => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    if (uid === 0) {
      // root reads and writes anything; executes what anyone may.
      if ((mode & constants.X_OK) !== 0 && (st.mode & 0o111) === 0 && (st.mode & constants.S_IFMT) !== constants.S_IFDIR) deny();
      return;
    }
    const shift = st.uid === uid ? 6 : st.gid === gid ? 3 : 0;
    const granted = (st.mode >> shift) & 7;
    if ((mode & 7 & ~granted) !== 0) deny();
  }

  private writable(): void {
    if (this.opts.readOnly) throw Object.assign(new Error('EROFS'), { code: 'EROFS' });
  }

  /** A callback-style op from an async one: errors become negative errno. */
  private run<T>(cb: ValueCb<T>, work: () => Promise<T>): void {
    // Started inside a promise: a synchronous throw is an errno too, never a crash of the mount.
    Promise.resolve()
      .then(work)
      .then((v) => cb(0, v), (err: unknown) => cb(negErrno(err)));
  }

  private done(cb: Cb, work: () => Promise<unknown>): void {
    this.run(cb, work);
  }

  /** Runs a changing operation and drops what it changed from the caches. */
  private change(cb: Cb, paths: readonly string[], work: () => Promise<unknown>): void {
    this.done(cb, async () => {
      this.writable();
      try {
        await work();
      } finally {
        for (const p of paths) {
          this.meta.changed(p);
          this.content.drop(p);
        }
      }
    });
  }

  async closeAll(): Promise<void> {
    this.watches.closeAll();
    await this.files.closeAll();
  }

  readonly ops: FuseOps = {
    init: (cb) => cb(0),
    getattr: (path, cb) => {
      // Answered on the spot when cached: each FUSE call costs a thread hop already.
      const cached = this.files.isDirty(path) ? undefined : this.meta.attr(path);
      if (cached === null) return cb(E.ENOENT);
      if (cached !== undefined) return cb(0, this.fuseStat(cached));
      this.run(cb, async () => this.fuseStat(await this.settledStat(path)));
    },
    fgetattr: (path, _fd, cb) => this.run(cb, async () => this.fuseStat(await this.settledStat(path))),
    access: (path, mode, cb) => this.done(cb, async () => this.checkAccess(this.fuseStat(await this.lstat(path)), mode)),
    statfs: (path, cb) =>
      this.run(cb, async () => {
        const s = await this.call('statfs', this.remote(path));
        return { bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255 };
      }),
    readdir: (path, cb) =>
      this.listing(path).then(
        async ({ names, stats }) => {
          const self = this.fuseStat(await this.lstat(path));
          cb(0, ['.', '..', ...names], [self, self, ...stats.map((s) => this.fuseStat(s))]);
        },
        (err: unknown) => cb(negErrno(err)),
      ).catch((err: unknown) => cb(negErrno(err))),
    open: (path, flags, cb) => {
      const fd = this.files.fromMemory(path, flags);
      if (fd !== undefined) return cb(0, fd);
      this.run(cb, () => {
        if ((flags & WRITE_FLAGS) !== 0) this.writable();
        return this.files.open(path, flags, 0);
      });
    },
    create: (path, mode, cb) =>
      this.run(cb, () => {
        this.writable();
        return this.files.open(path, constants.O_CREAT | constants.O_RDWR, mode);
      }),
    read: (_path, fd, buf, len, pos, cb) => {
      const memory = this.files.peek(fd)?.memory;
      if (memory !== undefined) return cb(memory.copy(buf, 0, pos, Math.min(memory.length, pos + len)));
      Promise.resolve()
        .then(async () => (await this.files.get(fd)).read(pos, len))
        .then((data) => cb(data.copy(buf, 0, 0, Math.min(len, data.length))), (err: unknown) => cb(negErrno(err)));
    },
    write: (path, fd, buf, len, pos, cb) => {
      Promise.resolve()
        .then(async () => {
          this.writable();
          await (await this.files.get(fd)).write(pos, buf.subarray(0, len));
          this.files.wrote(path);
          this.meta.changed(path);
          this.content.drop(path);
        })
        .then(() => cb(len), (err: unknown) => cb(negErrno(err)));
    },
    flush: (_path, fd, cb) => {
      if (this.files.peek(fd)?.clean === true) return cb(0);
      this.done(cb, async () => {
        const f = await this.files.get(fd);
        await f.flushWrites().finally(() => this.files.settled(f.path));
      });
    },
    fsync: (_path, _datasync, fd, cb) =>
      this.done(cb, async () => {
        const f = await this.files.get(fd);
        await f.flushWrites().finally(() => this.files.settled(f.path));
        if (f.handle !== undefined) await this.call('fsync', f.handle);
      }),
    release: (path, fd, cb) => {
      const f = this.files.take(fd);
      if (f === undefined || (f.handle === undefined && f.clean)) return cb(0);
      const wrote = f.hasPendingWrites || (f.flags & WRITE_FLAGS) !== 0;
      this.done(cb, async () => {
        await withDeadline(f.close(), this.opts.opTimeoutMs, 'close').finally(() => {
          if (wrote) this.files.settled(path);
        });
      });
    },
    truncate: (path, size, cb) => this.change(cb, [path], () => this.call('truncate', this.remote(path), size)),
    ftruncate: (path, fd, size, cb) =>
      this.change(cb, [path], async () => {
        const f = await this.files.get(fd);
        await f.flushWrites();
        await (f.handle !== undefined ? this.call('ftruncate', f.handle, size) : this.call('truncate', this.remote(path), size));
      }),
    unlink: (path, cb) => this.change(cb, [path], () => this.call('unlink', this.remote(path))),
    rmdir: (path, cb) => this.change(cb, [path], () => this.call('rmdir', this.remote(path))),
    mkdir: (path, mode, cb) => this.change(cb, [path], () => this.call('mkdir', this.remote(path), mode)),
    rename: (src, dest, cb) =>
      this.change(cb, [src, dest], async () => {
        await this.call('rename', this.remote(src), this.remote(dest));
        this.meta.changedBelow(src);
        this.meta.changedBelow(dest);
      }),
    symlink: (target, path, cb) => this.change(cb, [path], () => this.call('symlink', Buffer.from(target), this.remote(path))),
    link: (existing, path, cb) => this.change(cb, [existing, path], () => this.call('link', this.remote(existing), this.remote(path))),
    readlink: (path, cb) => this.run(cb, async () => Buffer.from(await this.call('readlink', this.remote(path))).toString()),
    chmod: (path, mode, cb) => this.change(cb, [path], () => this.call('chmod', this.remote(path), mode)),
    chown: (path, uid, gid, cb) =>
      this.change(cb, [path], () => {
        const m = this.opts.mapIds;
        const rUid = m !== undefined && uid === m.localUid ? m.remoteUid : uid;
        const rGid = m !== undefined && gid === m.localGid ? m.remoteGid : gid;
        return this.call('chown', this.remote(path), rUid, rGid);
      }),
    utimens: (path, atime, mtime, cb) => this.change(cb, [path], () => this.call('utimes', this.remote(path), atime, mtime)),
  };
}


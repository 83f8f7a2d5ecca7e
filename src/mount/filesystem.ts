/**
 * One mount's filesystem over the RemoteHost's file operations, as the kernel's FUSE requests
 * arrive (native.ts): entries and attributes answered from what is known while it is known to
 * be true (invalidation.ts), listings with attributes (READDIRPLUS), file contents by node
 * (node-io.ts; small files whole, in one round trip, and read ahead of a walk); changes.ts has
 * what changes the namespace. Every request and remote call has a deadline (kernel.ts,
 * remote-calls.ts); a handler's failure is the remote's errno, or EIO.
 */
import { constants } from 'node:fs';
import type { FileOpArgs, FileOpName, FileOpResult, WireStat } from '../protocol/file-ops.js';
import type { RemoteHost } from '../remote/host.js';
import { changeHandlers } from './changes.js';
import { ContentCache, SMALL_FILE } from './content-cache.js';
import { E, requestErrno } from './errno.js';
import { Invalidation } from './invalidation.js';
import { Listings } from './listings.js';
import type { Kernel } from './kernel.js';
import { Op, type FuseRequest } from './native.js';
import { DirReads } from './dir-reads.js';
import { NodeIo } from './node-io.js';
import { OpenFiles } from './open-files.js';
import { NodeTable, type FsNode } from './nodes.js';
import { Prefetcher } from './prefetch.js';
import { RemoteCalls } from './remote-calls.js';

export interface MountFsOptions {
  /** Absolute directory on the remote. */
  readonly remoteRoot: string;
  /** How long entries are trusted without change notices (s). */
  readonly ttlS: number;
  readonly opTimeoutMs: number;
  /** Fetch small files of listed directories ahead (where file operations are cheap: the agent). */
  readonly prefetch: boolean;
  /**
   * The kernel's writeback cache (where change notices exist: it keeps sizes and times of
   * regular files itself, so a file the remote changes gets a new node to be seen).
   */
  readonly writeback: boolean;
  /** Problems worth saying that do not stop the mount (names left out of a listing). */
  readonly warn?: (message: string) => void;
  /** The kernel ended the session (an unmount, by us or from outside). */
  readonly onExited?: () => void;
}

export type Handler = (req: FuseRequest) => Promise<void>;

export class MountFs {
  readonly nodes = new NodeTable();
  readonly content = new ContentCache();
  readonly invalidation: Invalidation;
  readonly prefetcher: Prefetcher | undefined;
  private readonly files: OpenFiles;
  private readonly calls: RemoteCalls;
  private readonly listings: Listings;
  private readonly dirReads: DirReads;
  private readonly root: Buffer;
  private readonly handlers: Readonly<Partial<Record<number, Handler>>>;
  exited = false;

  constructor(
    readonly host: RemoteHost,
    readonly kernel: Kernel,
    private readonly opts: MountFsOptions,
  ) {
    this.root = Buffer.from(opts.remoteRoot.replace(/\/+$/, '') || '/');
    this.calls = new RemoteCalls(host.fs, opts.opTimeoutMs);
    kernel.onExpired = () => this.calls.expired();
    this.invalidation = new Invalidation(host, this.nodes, kernel, (n, name) => this.remote(n, name), opts.ttlS, {
      contentsChanged: (n) => this.contentsChanged(n),
      retireFiles: opts.writeback,
    });
    this.prefetcher = opts.prefetch
      ? new Prefetcher(
          host.fs,
          this.content,
          (p) => this.remotePath(p),
          (p, st, data) => this.storeAhead(p, st, data),
        )
      : undefined;
    this.listings = new Listings({
      nodes: this.nodes,
      invalidation: this.invalidation,
      prefetcher: this.prefetcher,
      ahead: opts.prefetch,
      call: (op, ...args) => this.call(op, ...args),
      remote: (n) => this.remote(n),
      ...(opts.warn !== undefined ? { warn: opts.warn } : {}),
    });
    this.dirReads = new DirReads(this, this.listings, opts.prefetch);
    this.files = new OpenFiles(
      (node) =>
        new NodeIo({
          writeThrough: opts.writeback,
          call: (op, ...args) => this.call(op, ...args),
          remote: () => this.remote(node),
          generation: () => host.generation ?? 0,
          settle: (n) => kernel.settleWrites(node.ino, n),
        }),
    );
    this.handlers = { ...this.readHandlers(), ...changeHandlers(this) };
  }

  remotePath(path: string): Buffer {
    if (path === '/') return this.root;
    return this.root.length === 1 ? Buffer.from(path) : Buffer.concat([this.root, Buffer.from(path)]);
  }

  remote(node: FsNode, name?: string): Buffer {
    return this.remotePath(name === undefined ? this.nodes.path(node) : this.nodes.childPath(node, name));
  }

  call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> {
    return this.calls.call(op, ...args);
  }

  node(ino: number): FsNode {
    const node = this.nodes.get(ino);
    if (node === undefined) throw Object.assign(new Error('ESTALE'), { code: 'ESTALE' });
    return node;
  }

  /** Lifetime (s) of `node`'s entry and attributes: its directory's. */
  ttlOf(node: FsNode): number {
    return node.parent === undefined ? this.opts.ttlS : this.invalidation.ttlOf(node.parent);
  }

  setAttr(node: FsNode, st: WireStat): void {
    node.attr = st;
    node.attrUntil = Date.now() + this.ttlOf(node) * 1000;
    const listing = node.parent?.listing;
    if (listing?.has(node.name) === true && !node.detached) listing.set(node.name, st);
  }

  /**
   * Answers an entry request with `name` in `parent` holding a file with attributes `st`; for
   * CREATE, `create` carries the write handle opened with it (if any).
   */
  reply(id: number, parent: FsNode, name: string, st: WireStat, create?: { readonly handle: number | undefined }): FsNode {
    const node = this.nodes.ensure(parent, name, st);
    this.setAttr(node, st);
    const ttl = this.ttlOf(node);
    if (create?.handle !== undefined) this.io(node).adoptWriter(create.handle);
    const sent = create === undefined ? this.kernel.entry(id, node.ino, st, ttl, ttl) : this.kernel.created(id, node.ino, st, ttl, ttl);
    if (sent) node.lookups++;
    else this.nodes.dropIfUnused(node);
    return node;
  }

  io(node: FsNode): NodeIo {
    return this.files.of(node);
  }

  /** What we know of `node`'s attributes is out of date: asked again at the next need. */
  staleAttr(node: FsNode): void {
    node.attrUntil = 0;
    this.kernel.dropAttr(node.ino);
  }

  /** What is written to `node` and not yet on the remote is sent first (the size is the remote's to say). */
  async settled(node: FsNode): Promise<void> {
    await this.files.get(node.ino)?.flush();
  }

  /**
   * Contents fetched ahead go into the kernel's page cache while the file is still as listed:
   * the program's read of it is answered there, without a READ reaching us.
   */
  private storeAhead(path: string, st: WireStat, data: Buffer): void {
    const node = this.nodes.atPath(path);
    const known = node?.attr;
    if (node === undefined || node.detached || data.length === 0 || known === undefined) return;
    if (known.ino !== st.ino || known.size !== st.size || known.mtimeMs !== st.mtimeMs || this.files.get(node.ino)?.clean === false) return;
    this.kernel.store(node.ino, data);
  }

  contentsChanged(node: FsNode): void {
    this.content.drop(this.nodes.path(node));
    this.files.get(node.ino)?.forgetContents();
  }

  /** The remote's attributes of `node`, asked afresh. */
  async fetchAttr(node: FsNode): Promise<WireStat> {
    const st = await this.call('lstat', this.remote(node));
    this.setAttr(node, st);
    return st;
  }

  dispatch = (batch: FuseRequest[]): void => {
    for (const req of batch) {
      if (req.op === Op.Forget) this.forget(req.ino, req.n ?? 0);
      else if (req.op === Op.Exited) {
        this.exited = true;
        this.opts.onExited?.();
      } else {
        const handler = this.handlers[req.op];
        if (handler === undefined) {
          this.kernel.err(req.id, E.ENOSYS);
          continue;
        }
        this.kernel.accept(req.id);
        handler(req).catch((err: unknown) => this.kernel.err(req.id, requestErrno(req.op, err)));
      }
    }
  };

  private forget(ino: number, n: number): void {
    const node = this.nodes.forget(ino, n);
    if (node === undefined) return;
    this.invalidation.forgotten(node);
    this.dirReads.forget(ino);
    this.files.drop(ino);
  }

  private readHandlers(): Record<number, Handler> {
    return {
      [Op.Lookup]: (req) => this.dirReads.lookup(req),
      [Op.Getattr]: async (req) => {
        const node = this.node(req.ino);
        await this.settled(node);
        const st = node.attr !== undefined && node.attrUntil > Date.now() ? node.attr : await this.fetchAttr(node);
        this.kernel.attrReply(req.id, node.ino, st, this.ttlOf(node));
      },
      [Op.Readlink]: async (req) => {
        const target = await this.call('readlink', this.remote(this.node(req.ino)));
        this.kernel.readlink(req.id, Buffer.from(target).toString());
      },
      [Op.Readdirplus]: (req) => this.dirReads.read(req, true),
      [Op.Readdir]: (req) => this.dirReads.read(req, false),
      [Op.Statfs]: async (req) => {
        const s = await this.call('statfs', this.root);
        this.kernel.statfs(req.id, [s.bsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, 255]);
      },
      [Op.Read]: async (req) => this.kernel.data(req.id, await this.read(this.node(req.ino), req.off ?? 0, req.size ?? 0)),
      [Op.Write]: async (req) => {
        const node = this.node(req.ino);
        const data = req.data ?? Buffer.alloc(0);
        const answered = node.parent !== undefined ? this.invalidation.writeStarted(node.parent, node.name) : undefined;
        await this.io(node)
          .write(req.off ?? 0, data)
          .catch((err: unknown) => {
            this.kernel.settleWrites(node.ino, 1);
            throw err;
          })
          .finally(answered);
        this.wrote(node);
        this.kernel.written(req.id, data.length);
      },
      [Op.Flush]: async (req) => {
        await this.settled(this.node(req.ino));
        this.kernel.ok(req.id);
      },
      [Op.Fsync]: async (req) => {
        await this.files.get(req.ino)?.sync();
        this.kernel.ok(req.id);
      },
    };
  }

  /** `node` was written here: its size and times are the remote's to say again, and other names of it are stale. */
  wrote(node: FsNode): void {
    if (node.parent !== undefined) this.invalidation.mine(node.parent, node.name);
    this.staleAttr(node);
    this.content.drop(this.nodes.path(node));
    for (const other of this.nodes.sameFile(node)) {
      this.staleAttr(other);
      this.contentsChanged(other);
      this.kernel.invalInode(other.ino, true);
    }
  }

  private async read(node: FsNode, off: number, size: number): Promise<Uint8Array | readonly Uint8Array[]> {
    const st = node.attr;
    const io = this.files.get(node.ino);
    if (st === undefined || (st.mode & constants.S_IFMT) !== constants.S_IFREG || st.size > SMALL_FILE || (io !== undefined && !io.clean))
      return this.io(node).read(off, size);
    // Small: the whole file in one round trip, kept for the next reader.
    const path = this.nodes.path(node);
    let data = this.content.get(path, st) ?? (await this.prefetcher?.pending(path));
    if (data === undefined) {
      this.prefetcher?.reading(node.parent === undefined ? '/' : this.nodes.path(node.parent));
      data = Buffer.from(await this.call('readFile', this.remote(node), st.size + 1));
      if (data.length > st.size) return this.io(node).read(off, size);
      // Kept only where change notices say when it goes stale: over SFTP inode numbers are 0 and
      // times whole seconds, so (ino, mtime, size) cannot tell a same-size rewrite.
      if (data.length === st.size && this.opts.prefetch) this.content.put(path, st, data);
    }
    return data.subarray(off, off + size);
  }

  /** Sends every write still held (the flush at unmount). */
  flushAll(): Promise<void> {
    return this.files.flushAll();
  }

  async close(): Promise<void> {
    this.invalidation.closeAll();
    await this.files.closeAll();
  }
}

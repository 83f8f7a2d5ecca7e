/**
 * Directory listings of one mount: a directory's entries with attributes, fetched once however
 * many wait and held while known current (its watch is up first, so they may be trusted long),
 * and — while the kernel walks a directory — its subdirectories listed ahead, a few at a time,
 * so the walk finds them in memory. Names FUSE cannot carry are left out.
 */
import { constants } from 'node:fs';
import type { FileOpArgs, FileOpName, FileOpResult, WireStat } from '../protocol/file-ops.js';
import type { Invalidation } from './invalidation.js';
import type { FsNode, NodeTable } from './nodes.js';
import type { Prefetcher } from './prefetch.js';

export type Listing = Map<string, WireStat>;

/** Subdirectories listed ahead of a walk at once, and how many wait their turn at most. */
const AHEAD = 8;
const QUEUED = 4096;

export interface ListingsContext {
  readonly nodes: NodeTable;
  readonly invalidation: Invalidation;
  readonly prefetcher: Prefetcher | undefined;
  /** List subdirectories ahead of a walk (where listings are cheap: the agent). */
  readonly ahead: boolean;
  call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>>;
  remote(node: FsNode): Buffer;
  /** Said once per directory: names it listed that cannot be files here. */
  readonly warn?: (message: string) => void;
}

export class Listings {
  private readonly pending = new Map<number, Promise<Listing>>();
  private readonly queue: FsNode[] = [];
  private running = 0;
  private readonly warned = new Set<string>();

  constructor(private readonly ctx: ListingsContext) {}

  /**
   * The directory's entries. `walking`: the kernel is reading this directory, so its
   * subdirectories are listed ahead (one level: what a listing ahead finds is not listed ahead
   * in turn).
   */
  list(dir: FsNode, walking = false): Promise<Listing> {
    if (dir.listing !== undefined && dir.listingUntil > Date.now()) {
      if (walking) this.listSubdirectories(dir, dir.listing);
      return Promise.resolve(dir.listing);
    }
    let pending = this.pending.get(dir.ino);
    if (pending === undefined) {
      pending = this.fetch(dir).finally(() => this.pending.delete(dir.ino));
      this.pending.set(dir.ino, pending);
    }
    if (walking)
      void pending.then(
        (listing) => this.listSubdirectories(dir, listing),
        () => undefined,
      );
    return pending;
  }

  private async fetch(dir: FsNode): Promise<Listing> {
    const { nodes, invalidation } = this.ctx;
    const [entries] = await Promise.all([this.ctx.call('readdir', this.ctx.remote(dir)), invalidation.ensure(dir)]);
    const listing: Listing = new Map();
    const refused: string[] = [];
    for (const e of entries) {
      const name = Buffer.from(e.name).toString();
      // SFTP lists the directory itself and its parent; they are no entries of it.
      if (e.st === undefined || name === '.' || name === '..') continue;
      // A slash or NUL cannot be in a file name here (a remote that sends one is broken or
      // hostile); names that are not UTF-8 cannot be told apart once decoded.
      if (name.includes('/') || name.includes('\0') || !Buffer.from(name).equals(Buffer.from(e.name)))
        refused.push(JSON.stringify(Buffer.from(e.name).toString('latin1')));
      else listing.set(name, e.st);
    }
    if (refused.length > 0) this.refused(nodes.path(dir), refused);
    dir.listing = listing;
    dir.listingUntil = Date.now() + invalidation.ttlOf(dir) * 1000;
    this.ctx.prefetcher?.listed(
      nodes.path(dir),
      [...listing].map(([name, st]) => ({ path: nodes.childPath(dir, name), st })),
    );
    return listing;
  }

  private refused(path: string, names: readonly string[]): void {
    if (this.warned.has(path)) return;
    this.warned.add(path);
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
    this.ctx.warn?.(
      `the remote listed ${names.length === 1 ? 'a name' : `${names.length} names`} in ${path || '/'} that cannot be a file name ` +
        `here (a slash, a NUL, or not UTF-8), left out of the mount: ${shown}`,
    );
  }

  private listSubdirectories(dir: FsNode, listing: Listing): void {
    if (!this.ctx.ahead || dir.walked) return;
    dir.walked = true;
    const subdirs: FsNode[] = [];
    for (const [name, st] of listing)
      if ((st.mode & constants.S_IFMT) === constants.S_IFDIR) subdirs.push(this.ctx.nodes.ensure(dir, name, st));
    // The walk goes into these next, in this order (a depth-first walk before older ones).
    this.queue.unshift(...subdirs);
    this.listAhead();
  }

  /** Lists queued subdirectories in the background, a few at a time, those of the latest directory read first. */
  private listAhead(): void {
    while (this.running < AHEAD && this.queue.length > 0) {
      const dir = this.queue.shift() as FsNode;
      if (this.pending.has(dir.ino) || (dir.listing !== undefined && dir.listingUntil > Date.now())) continue;
      this.running++;
      void this.list(dir)
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.listAhead();
        });
    }
    // Bounded: what the walk left behind long ago is not worth listing.
    if (this.queue.length > QUEUED) this.queue.length = QUEUED;
  }
}

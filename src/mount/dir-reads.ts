/**
 * Entries of directories for the kernel: LOOKUP of a name (answered from the directory's listing
 * where listings are cheap), and READDIR/READDIRPLUS with a listing snapshot per directory while
 * the kernel reads it in several requests, entries with attributes (the freshest known: a file we
 * wrote since the listing is asked afresh), and a node for each entry the kernel keeps.
 */
import type { WireStat } from '../protocol/file-ops.js';
import type { MountFs } from './filesystem.js';
import type { Listings } from './listings.js';
import type { DirEntry, FuseRequest } from './native.js';
import type { FsNode } from './nodes.js';

type Snapshot = readonly (readonly [string, WireStat])[];

/** Listings held for directory reads in progress (the kernel reads a big one in several requests). */
const SNAPSHOTS = 64;
/** The largest directory a lookup lists instead of stat'ing one name. */
const LIST_FOR_LOOKUP = 10_000;

export class DirReads {
  private readonly snapshots = new Map<number, Snapshot>();

  /** `cheapListings`: list a directory to answer a lookup in it (the agent: one round trip answers them all). */
  constructor(
    private readonly fs: MountFs,
    private readonly listings: Listings,
    private readonly cheapListings: boolean,
  ) {}

  async lookup(req: FuseRequest): Promise<void> {
    const parent = this.fs.node(req.ino);
    const name = req.name ?? '';
    const now = Date.now();
    const child = parent.children?.get(name);
    let st: WireStat | null | undefined = child !== undefined && child.attrUntil > now ? child.attr : undefined;
    // Where listings are cheap (the agent), one listing answers this and every later lookup in
    // the directory. A known file whose attributes went stale (we wrote it) is asked alone.
    const listable = this.cheapListings && (parent.listing?.size ?? 0) <= LIST_FOR_LOOKUP;
    const listed = child === undefined && (listable || (parent.listing !== undefined && parent.listingUntil > now));
    if (st === undefined && listed && !this.fs.invalidation.oursLately(parent, name)) {
      st = (await this.listings.list(parent)).get(name) ?? null;
    }
    if (st === undefined) {
      st = await this.fs.call('lstat', this.fs.remote(parent, name)).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'ENOENT') return null;
        throw err;
      });
    }
    if (st === null) this.fs.kernel.negative(req.id, this.fs.invalidation.ttlOf(parent));
    else this.fs.reply(req.id, parent, name, st);
  }

  /** The directory is forgotten by the kernel: its snapshot goes. */
  forget(ino: number): void {
    this.snapshots.delete(ino);
  }

  /** One READDIR (names) or READDIRPLUS (names with attributes and nodes) request. */
  async read(req: FuseRequest, plus: boolean): Promise<void> {
    const dir = this.fs.node(req.ino);
    const off = req.off ?? 0;
    const size = req.size ?? 4096;
    let listing = off === 0 ? undefined : this.snapshots.get(dir.ino);
    if (listing === undefined) {
      listing = [...(await this.listings.list(dir, true))];
      this.snapshots.delete(dir.ino);
      this.snapshots.set(dir.ino, listing);
      for (const key of this.snapshots.keys()) if (this.snapshots.size > SNAPSHOTS) this.snapshots.delete(key);
    }
    const ttl = this.fs.invalidation.ttlOf(dir);
    const self = this.fs.kernel.attr(dir.attr ?? (await this.fs.fetchAttr(dir)), dir.ino);
    const most = Math.floor(size / (plus ? 160 : 32)) + 1;
    const end = Math.min(listing.length + 2, off + most);
    // A file known better than the listing knows it: its own attributes if current, else asked
    // afresh (we wrote it since) — never the listing's older size handed to the kernel.
    const now = Date.now();
    const fresher = new Map<string, Promise<WireStat | undefined>>();
    for (let i = Math.max(off, 2); plus && i < end; i++) {
      const [name] = listing[i - 2] as readonly [string, WireStat];
      const known = dir.children?.get(name);
      if (known?.attr !== undefined && known.attrUntil <= now)
        fresher.set(
          name,
          this.fs.fetchAttr(known).catch(() => undefined),
        );
      else if (known === undefined && this.fs.invalidation.oursLately(dir, name))
        fresher.set(
          name,
          this.fs.call('lstat', this.fs.remote(dir, name)).catch(() => undefined),
        );
    }
    const out: DirEntry[] = [];
    const made: (FsNode | undefined)[] = [];
    for (let i = off; i < end; i++) {
      const e = listing[i - 2];
      if (e === undefined) {
        out.push([i === 0 ? '.' : '..', 0, self, i + 1]);
        made.push(undefined);
        continue;
      }
      const [name, listed] = e;
      const known = plus ? dir.children?.get(name) : undefined;
      const st = (await fresher.get(name)) ?? (known?.attr !== undefined && known.attrUntil > now ? known.attr : listed);
      const node = plus ? this.fs.nodes.ensure(dir, name, st) : undefined;
      if (node !== undefined && node.attr !== st) this.fs.setAttr(node, st);
      out.push([name, node?.ino ?? 0, this.fs.kernel.attr(st, node?.ino ?? dir.children?.get(name)?.ino ?? 1), i + 1]);
      made.push(node);
    }
    const fit = this.fs.kernel.dir(req.id, size, plus, out, ttl, ttl);
    made.forEach((node, k) => {
      if (node === undefined) return;
      if (k < fit) node.lookups++;
      else this.fs.nodes.dropIfUnused(node);
    });
  }
}

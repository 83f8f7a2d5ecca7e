/**
 * Keeping the kernel's caches true. Where the tier offers change notices (the agent's inotify),
 * every directory the kernel learns entries of is watched, and its entries are given long
 * lifetimes; when the remote says a name changed, what the kernel and the mount hold of that
 * name, of the file behind it and of the directory's listing is dropped at once. Without
 * notices (agentless), or past the watch limit, entries live `ttl` only. A watch that ends
 * (the connection went, the directory vanished) drops everything it covered.
 *
 * Notices of our own changes come back too. Dropping on each would throw away what the kernel
 * just learnt from us (a tar of 2,000 files would look every one up again), so a notice about
 * a name we changed in the last seconds is checked first: the remote is asked, and only what
 * differs from what we know is dropped. The limit of that check: a remote write racing our own
 * write to the same file within the window drops its attributes, not its cached pages.
 */
import type { WireStat } from '../protocol/file-ops.js';
import type { ChangeKind } from '../protocol/frames.js';
import type { RemoteHost, RemoteWatch } from '../remote/host.js';
import type { Kernel } from './kernel.js';
import type { FsNode, NodeTable } from './nodes.js';

/** Lifetime (s) of what a live watch covers: a missed notice is the only way it could be wrong. */
export const WATCHED_TTL_S = 3600;
/** How long after our own change of a name its notices are checked rather than obeyed. */
const OURS_MS = 2000;
/** A notice often comes before the answer to the change that caused it: the check waits for that. */
const CHECK_DELAY_MS = 100;
/** A check waits until we have not changed the name for this long (a write still going on). */
const WRITES_QUIET_MS = 300;

function sameFile(a: WireStat, b: WireStat): boolean {
  return (
    a.ino === b.ino &&
    a.mode === b.mode &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.nlink === b.nlink &&
    a.uid === b.uid &&
    a.gid === b.gid
  );
}

export interface InvalidationHooks {
  /** `node`'s contents may have changed on the remote (drop read-ahead and held contents). */
  contentsChanged(node: FsNode): void;
  /**
   * With the kernel's writeback cache it never takes a regular file's size or times from us
   * again: a file changed on the remote is given a new node (the next lookup makes it).
   */
  readonly retireFiles: boolean;
}

export class Invalidation {
  private readonly live = new Map<number, RemoteWatch | Promise<void>>();
  /** "dir ino/name" → when we last changed it. */
  private readonly ours = new Map<string, number>();
  /** WRITEs on their way to the remote, by the same key: until answered, the remote is behind us. */
  private readonly writing = new Map<string, number>();
  /** Checks scheduled, by the same key, with the strongest kind of change noticed meanwhile. */
  private readonly checks = new Map<string, ChangeKind | undefined>();

  constructor(
    private readonly host: RemoteHost,
    private readonly nodes: NodeTable,
    private readonly kernel: Kernel,
    private readonly remotePath: (node: FsNode, name?: string) => Buffer,
    private readonly ttlS: number,
    private readonly hooks: InvalidationHooks,
    private readonly limit = 8192,
  ) {}

  private get available(): boolean {
    return this.host.watch !== undefined && this.host.info().capabilities.includes('watch');
  }

  /** Lifetime (s) of entries of `dir` and of their attributes. */
  ttlOf(dir: FsNode): number {
    const w = this.live.get(dir.ino);
    return w !== undefined && !(w instanceof Promise) ? WATCHED_TTL_S : this.ttlS;
  }

  /**
   * Starts watching `dir` (once); resolves when the watch is up or could not be made. Entries
   * answered before then get the short lifetime.
   */
  ensure(dir: FsNode): Promise<void> {
    const known = this.live.get(dir.ino);
    if (known instanceof Promise) return known;
    if (known !== undefined || !this.available || this.host.watch === undefined) return Promise.resolve();
    const ino = dir.ino;
    const starting = this.host
      .watch(this.remotePath(dir), (name, kind) => this.changed(ino, name === null ? null : Buffer.from(name).toString(), kind))
      .then(
        (w) => {
          if (this.live.get(ino) === starting) this.live.set(ino, w);
          else w.close();
          this.trim();
        },
        () => void (this.live.get(ino) === starting && this.live.delete(ino)),
      );
    this.live.set(ino, starting);
    return starting;
  }

  /** We are changing `name` in `dir`: its notices for a while are likely echoes of that. */
  mine(dir: FsNode, name: string): void {
    const now = Date.now();
    if (this.ours.size > 10_000) for (const [key, at] of this.ours) if (at < now - OURS_MS) this.ours.delete(key);
    this.ours.set(`${dir.ino}/${name}`, now);
  }

  /** A WRITE of `name` in `dir` is on its way; the function returned says it was answered. */
  writeStarted(dir: FsNode, name: string): () => void {
    const key = `${dir.ino}/${name}`;
    this.mine(dir, name);
    this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
    return () => {
      const left = (this.writing.get(key) ?? 1) - 1;
      if (left > 0) this.writing.set(key, left);
      else this.writing.delete(key);
      this.ours.set(key, Date.now());
    };
  }

  /**
   * We changed `name` in `dir` lately or are writing it now: what a listing says of it may be
   * behind us (a check caught the remote mid-write), so it is asked alone.
   */
  oursLately(dir: FsNode, name: string): boolean {
    return this.oursByKey(`${dir.ino}/${name}`);
  }

  private oursByKey(key: string): boolean {
    return this.writing.has(key) || (this.ours.get(key) ?? 0) > Date.now() - OURS_MS;
  }

  /** The remote says `name` in directory `ino` changed (null: anything in it may have, and the watch ended). */
  changed(ino: number, name: string | null, kind?: ChangeKind): void {
    if (name === null) this.live.delete(ino);
    const key = `${ino}/${name}`;
    if (name === null || !this.oursByKey(key)) return this.drop(ino, name, kind);
    // One check answers every notice of the same name that comes meanwhile (a tar sends six).
    if (this.checks.has(key)) {
      if (kind !== 'change') this.checks.set(key, kind);
      return;
    }
    this.checks.set(key, kind);
    this.scheduleCheck(key, ino, name, CHECK_DELAY_MS);
  }

  /** One check of `name` after `ms`, with the strongest kind of change noticed until then. */
  private scheduleCheck(key: string, ino: number, name: string, ms: number): void {
    setTimeout(() => {
      const strongest = this.checks.get(key);
      this.checks.delete(key);
      void this.check(ino, name, strongest);
    }, ms);
  }

  /** A notice about a name we changed: dropped only where the remote differs from what we know. */
  private async check(ino: number, name: string, kind: ChangeKind | undefined): Promise<void> {
    const key = `${ino}/${name}`;
    const last = this.ours.get(key);
    const writing = this.writing.has(key) || (last !== undefined && Date.now() - last < WRITES_QUIET_MS);
    if (writing && !this.checks.has(key)) {
      // Our own writes are still on their way or arriving: the remote is behind them, not changed
      // by someone else. A file given a new node now would show a size caught mid-write to every
      // new open (a WRITE slow to be answered once left the remote short by its last MiB).
      this.checks.set(key, kind);
      return this.scheduleCheck(key, ino, name, WRITES_QUIET_MS);
    }
    const dir = this.nodes.get(ino);
    if (dir === undefined) return;
    let st: WireStat | null;
    try {
      st = await this.host.fs.call('lstat', this.remotePath(dir, name));
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') return this.drop(ino, name, kind);
      st = null;
    }
    const child = dir.children?.get(name);
    const known = child?.attr ?? dir.listing?.get(name);
    if (st === null) {
      if (child !== undefined || dir.listing?.has(name) === true) this.drop(ino, name, 'rename');
      return;
    }
    if (known === undefined || known.ino !== st.ino || (known.mode & 0o170000) !== (st.mode & 0o170000))
      return this.drop(ino, name, 'rename');
    if (sameFile(known, st)) return;
    if (dir.listing?.has(name) === true) dir.listing.set(name, st);
    if (child === undefined) return;
    // Changed since we last knew it — by us or by someone else, the attributes cannot tell.
    if (this.retires(child)) return this.retire(dir, name, child);
    child.attr = st;
    child.attrUntil = Date.now() + this.ttlOf(dir) * 1000;
    this.hooks.contentsChanged(child);
    this.kernel.invalInode(child.ino, true);
  }

  private retires(node: FsNode): boolean {
    return this.hooks.retireFiles && ((node.attr?.mode ?? 0) & 0o170000) === 0o100000;
  }

  /**
   * A regular file changed under the kernel's writeback cache: its node is set aside (a
   * program holding it open keeps its view, as after a replace) and the name is looked up
   * afresh, as a new inode with the remote's size and times.
   */
  private retire(dir: FsNode, name: string, child: FsNode): void {
    this.hooks.contentsChanged(child);
    this.kernel.invalInode(child.ino, false);
    this.nodes.detach(dir, name);
    this.kernel.invalEntry(dir.ino, name);
  }

  private drop(ino: number, name: string | null, kind: ChangeKind | undefined): void {
    const dir = this.nodes.get(ino);
    if (dir === undefined) return;
    const child = name === null ? undefined : dir.children?.get(name);
    if (name !== null && child !== undefined && this.retires(child)) {
      // What the listing says of it is old too: the next lookup lists afresh.
      dir.listing = undefined;
      return this.retire(dir, name, child);
    }
    if (kind === 'change' && child !== undefined) {
      // Contents or attributes: the name and the directory's listing stand.
      child.attrUntil = 0;
      this.hooks.contentsChanged(child);
      this.kernel.invalInode(child.ino, true);
      return;
    }
    dir.listing = undefined;
    dir.walked = false;
    dir.attrUntil = 0;
    this.kernel.invalInode(dir.ino, true);
    const names = name === null ? [...(dir.children?.keys() ?? [])] : [name];
    for (const n of names) {
      this.kernel.invalEntry(dir.ino, n);
      const child = dir.children?.get(n);
      if (child === undefined) continue;
      child.attrUntil = 0;
      this.hooks.contentsChanged(child);
      this.kernel.invalInode(child.ino, true);
    }
  }

  /**
   * A command on the remote wrote the file at `path` (in the mount) through a file the agent
   * opened for it: what is held of it goes now, without waiting for (or checking) the notice
   * that follows; resolves once the kernel has been told.
   */
  async changedThere(path: string): Promise<void> {
    const cut = path.lastIndexOf('/');
    const dir = this.nodes.atPath(path.slice(0, cut));
    if (dir === undefined || cut < 0) return;
    this.drop(dir.ino, path.slice(cut + 1), 'change');
    await this.kernel.delivered();
  }

  /** A node the kernel forgot: its watch goes too. */
  forgotten(node: FsNode): void {
    const w = this.live.get(node.ino);
    this.live.delete(node.ino);
    if (w !== undefined && !(w instanceof Promise)) w.close();
  }

  /** Past the limit the oldest watches end, and what they covered falls back to short lifetimes. */
  private trim(): void {
    for (const [ino, w] of this.live) {
      if (this.live.size <= this.limit) break;
      if (w instanceof Promise) continue;
      w.close();
      this.changed(ino, null);
    }
  }

  closeAll(): void {
    for (const w of this.live.values()) if (!(w instanceof Promise)) w.close();
    this.live.clear();
  }
}

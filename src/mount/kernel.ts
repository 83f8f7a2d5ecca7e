/**
 * The mount's side of the FUSE connection: replies in the shapes the kernel wants (attributes
 * with ids mapped, timeouts), and the deadline of every request. A request not answered within
 * `opTimeoutMs` is answered EIO by a sweep, and the late answer is dropped by the binding —
 * READ, WRITE, FLUSH and FSYNC included: a stalled remote never hangs a program.
 */
import type { WireStat } from '../protocol/file-ops.js';
import { E } from './errno.js';
import type { DirEntry, FuseAttr, FuseBinding, FuseSession } from './native.js';

export interface IdMap {
  readonly remoteUid: number;
  readonly remoteGid: number;
  readonly localUid: number;
  readonly localGid: number;
}

const SWEEP_MS = 200;

export class Kernel {
  /** Deadline (ms since epoch) of every request awaiting an answer, by id. */
  private readonly deadlines = new Map<number, number>();
  private readonly sweeper: NodeJS.Timeout;
  /** Told when a request's deadline passed unanswered. */
  onExpired: () => void = () => undefined;

  constructor(
    readonly binding: FuseBinding,
    readonly session: FuseSession,
    private readonly opTimeoutMs: number,
    private readonly ids: IdMap | undefined,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** A request is in JS's hands from now on. */
  accept(id: number): void {
    if (id !== 0) this.deadlines.set(id, Date.now() + this.opTimeoutMs);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, until] of this.deadlines) {
      if (until > now) continue;
      this.deadlines.delete(id);
      this.binding.replyErr(this.session, id, -E.EIO);
      this.onExpired();
    }
  }

  private answered(id: number): void {
    this.deadlines.delete(id);
  }

  stop(): void {
    clearInterval(this.sweeper);
    // Whatever is still waiting is failed, not left to the kernel's patience.
    for (const id of this.deadlines.keys()) this.binding.replyErr(this.session, id, -E.EIO);
    this.deadlines.clear();
  }

  /**
   * Attributes as the kernel is given them. `ino` stands in where the remote has no inode
   * numbers (SFTP says 0, and readdir(3) skips entries whose d_ino is 0).
   */
  attr(st: WireStat, ino: number): FuseAttr {
    const m = this.ids;
    const uid = m !== undefined && st.uid === m.remoteUid ? m.localUid : st.uid;
    const gid = m !== undefined && st.gid === m.remoteGid ? m.localGid : st.gid;
    return [st.ino !== 0 ? st.ino : ino, st.mode, st.nlink, uid, gid, st.rdev, st.size, st.blocks, st.atimeMs, st.mtimeMs, st.ctimeMs];
  }

  /** Local ids given to chown, as the remote knows them. */
  remoteIds(uid: number, gid: number): [number, number] {
    const m = this.ids;
    if (m === undefined) return [uid, gid];
    return [uid === m.localUid ? m.remoteUid : uid, gid === m.localGid ? m.remoteGid : gid];
  }

  err(id: number, negErrno: number): void {
    this.answered(id);
    this.binding.replyErr(this.session, id, -negErrno);
  }

  ok(id: number): void {
    this.answered(id);
    this.binding.replyErr(this.session, id, 0);
  }

  entry(id: number, ino: number, st: WireStat, entryTimeout: number, attrTimeout: number): boolean {
    this.answered(id);
    return this.binding.replyEntry(this.session, id, ino, this.attr(st, ino), entryTimeout, attrTimeout);
  }

  /** "No such entry", remembered by the kernel for `timeout` seconds. */
  negative(id: number, timeout: number): void {
    this.answered(id);
    this.binding.replyEntry(this.session, id, 0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], timeout, 0);
  }

  created(id: number, ino: number, st: WireStat, entryTimeout: number, attrTimeout: number): boolean {
    this.answered(id);
    return this.binding.replyCreate(this.session, id, ino, this.attr(st, ino), entryTimeout, attrTimeout);
  }

  attrReply(id: number, ino: number, st: WireStat, timeout: number): void {
    this.answered(id);
    this.binding.replyAttr(this.session, id, this.attr(st, ino), timeout, ino);
  }

  data(id: number, bytes: Uint8Array | readonly Uint8Array[]): void {
    this.answered(id);
    this.binding.replyBuf(this.session, id, bytes);
  }

  readlink(id: number, target: string): void {
    this.answered(id);
    this.binding.replyReadlink(this.session, id, target);
  }

  written(id: number, count: number): void {
    this.answered(id);
    this.binding.replyWrite(this.session, id, count);
  }

  statfs(id: number, fields: readonly number[]): void {
    this.answered(id);
    this.binding.replyStatfs(this.session, id, fields);
  }

  dir(id: number, size: number, plus: boolean, entries: readonly DirEntry[], entryTimeout: number, attrTimeout: number): number {
    this.answered(id);
    return this.binding.replyDir(this.session, id, size, plus, entries, entryTimeout, attrTimeout);
  }

  /** Our knowledge of `ino`'s attributes went stale (the kernel's copy may still be used until it expires). */
  dropAttr(ino: number): void {
    this.binding.dropAttr(this.session, ino);
  }

  settleWrites(ino: number, n: number): void {
    this.binding.settleWrites(this.session, ino, n);
  }

  invalEntry(parent: number, name: string): void {
    this.binding.notifyInvalEntry(this.session, parent, name);
  }

  /** Hands the kernel `ino`'s contents ahead of any read: its page cache answers the reads itself. */
  store(ino: number, data: Uint8Array): void {
    this.binding.notifyStore(this.session, ino, 0, data);
  }

  /**
   * Resolves once every notice queued until now is written to the kernel (the notifier thread
   * writes them a moment later), or after `ms` (a notice that waits on a write back).
   */
  async delivered(ms = 200): Promise<void> {
    const mark = this.binding.notesCount(this.session, false);
    for (const end = Date.now() + ms; this.binding.notesCount(this.session, true) < mark && Date.now() < end; )
      await new Promise((r) => setTimeout(r, 1));
  }

  /** Drops what the kernel holds of `ino`: attributes, and with `pages` its cached contents too. */
  invalInode(ino: number, pages: boolean): void {
    this.binding.notifyInvalInode(this.session, ino, pages ? 0 : -1, 0);
  }
}

/**
 * mproxy's own binding of libfuse 3's low-level API (native/fuse/), typed. libfuse reads
 * requests on a thread of its own; JS receives them in batches and answers each by its id.
 * Answers write to /dev/fuse directly; an answer to a request already answered (its deadline
 * replied EIO first) is dropped and returns false. Invalidations go through a notifier thread.
 */
import { createRequire } from 'node:module';
import { MproxyError } from '../util/errors.js';
import { packagePath } from '../util/package-path.js';

/** Request kinds: the numbers of native/fuse/session.h's enum mp_op. */
export const Op = {
  Lookup: 1,
  Forget: 2,
  Getattr: 3,
  Setattr: 4,
  Readlink: 5,
  Mknod: 6,
  Mkdir: 7,
  Unlink: 8,
  Rmdir: 9,
  Symlink: 10,
  Rename: 11,
  Link: 12,
  Read: 13,
  Write: 14,
  Flush: 15,
  Fsync: 16,
  Readdirplus: 17,
  Statfs: 18,
  Create: 19,
  Readdir: 20,
  Exited: 99,
} as const;

/** FUSE_SET_ATTR_* bits of a SETATTR's `valid`. */
export const SetAttr = { Mode: 1, Uid: 2, Gid: 4, Size: 8, Atime: 16, Mtime: 32, AtimeNow: 128, MtimeNow: 256, Ctime: 1024 } as const;

/** One request as the binding hands it over; which fields are set depends on `op`. */
export interface FuseRequest {
  readonly op: number;
  /** Names the request in a reply; 0 for those that take none (FORGET, EXITED). */
  readonly id: number;
  /** The inode (the parent, for requests naming an entry). */
  readonly ino: number;
  readonly name?: string;
  /** RENAME: the new name; SYMLINK: the link's target. */
  readonly name2?: string;
  /** FORGET: how many lookups the kernel drops. */
  readonly n?: number;
  readonly newParent?: number;
  readonly off?: number;
  readonly size?: number;
  readonly mode?: number;
  readonly flags?: number;
  readonly valid?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** SETATTR times in ms; -1: now. */
  readonly atime?: number;
  readonly mtime?: number;
  readonly datasync?: number;
  readonly data?: Buffer;
}

/** [ino, mode, nlink, uid, gid, rdev, size, blocks, atimeMs, mtimeMs, ctimeMs] */
export type FuseAttr = readonly [number, number, number, number, number, number, number, number, number, number, number];

/** [name, node id (0: none), attributes, offset of the next entry] */
export type DirEntry = readonly [string, number, FuseAttr, number];

/** start()'s flags (native/fuse/session.h). */
export const StartFlag = {
  /** The kernel's writeback cache. */
  Writeback: 1,
  /** No change notices: each open drops the file's cached pages (OPEN answered in C). */
  CloseToOpen: 2,
} as const;

export interface FuseSession {
  readonly __brand: 'FuseSession';
}

export interface FuseBinding {
  start(mountpoint: string, options: string, flags: number, onRequests: (batch: FuseRequest[]) => void): FuseSession;
  close(s: FuseSession): void;
  replyErr(s: FuseSession, id: number, errno: number): boolean;
  replyEntry(s: FuseSession, id: number, ino: number, attr: FuseAttr, entryTimeout: number, attrTimeout: number): boolean;
  replyCreate(s: FuseSession, id: number, ino: number, attr: FuseAttr, entryTimeout: number, attrTimeout: number): boolean;
  /** Also kept by the binding, which answers GETATTR of `ino` itself while they are current. */
  replyAttr(s: FuseSession, id: number, attr: FuseAttr, timeout: number, ino: number): boolean;
  /**
   * Read data, whole or in the pieces it arrived in: large replies are written from these very
   * buffers (held until written), small ones copied.
   */
  replyBuf(s: FuseSession, id: number, data: Uint8Array | readonly Uint8Array[]): boolean;
  replyReadlink(s: FuseSession, id: number, target: string): boolean;
  replyWrite(s: FuseSession, id: number, count: number): boolean;
  /** [bsize, blocks, bfree, bavail, files, ffree, namemax] */
  replyStatfs(s: FuseSession, id: number, fields: readonly number[]): boolean;
  /** How many of `entries` fit in `size` bytes (and were sent). */
  replyDir(
    s: FuseSession,
    id: number,
    size: number,
    plus: boolean,
    entries: readonly DirEntry[],
    entryTimeout: number,
    attrTimeout: number,
  ): number;
  settleWrites(s: FuseSession, ino: number, n: number): void;
  /** What the binding holds of `ino`'s attributes is stale: its GETATTRs come to JS again. */
  dropAttr(s: FuseSession, ino: number): void;
  notifyInvalEntry(s: FuseSession, parent: number, name: string): void;
  /** off -1: the attributes only; 0, 0: attributes and every cached page. */
  notifyInvalInode(s: FuseSession, ino: number, off: number, len: number): void;
  notifyDelete(s: FuseSession, parent: number, child: number, name: string): void;
  /** Puts `data` at `off` into the kernel's page cache of `ino` (copied; written by the notifier). */
  notifyStore(s: FuseSession, ino: number, off: number, data: Uint8Array): void;
  /** How many notices were queued (`done` false) or written to the kernel (true) so far. */
  notesCount(s: FuseSession, done: boolean): number;
}

let loaded: FuseBinding | undefined;

export function fuseBindingPath(): string {
  return packagePath('build/Release/mproxy_fuse.node');
}

/** The binding, loaded on first use; a clear error when it was not built or libfuse3 is missing. */
export function fuseBinding(): FuseBinding {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)(fuseBindingPath()) as FuseBinding;
  } catch (err) {
    throw new MproxyError('E_MOUNT', `the FUSE binding could not be loaded (${fuseBindingPath()})`, {
      hint: [
        'it needs libfuse 3: apt-get install fuse3 libfuse3-3 (and libfuse3-dev to build it: npm run build)',
        'mproxy doctor checks it',
      ],
      cause: err,
    });
  }
  return loaded;
}

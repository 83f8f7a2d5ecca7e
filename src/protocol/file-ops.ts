/**
 * The file operations of the protocol: names, argument lists and result shapes, shared by the
 * agent (which serves them) and the client (which calls them). Paths are bytes; handles are
 * opaque numbers held by the agent until closed.
 */
export interface WireStat {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly size: number;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

export interface WireDirEntry {
  readonly name: Uint8Array;
  /** lstat of the entry; absent when it vanished between listing and stat. */
  readonly st?: WireStat;
}

export interface WireStatfs {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
}

type Path = Uint8Array;
type Handle = number;

/** op name → [arguments, result]. */
export interface FileOps {
  open: [[path: Path, flags: number, mode: number], Handle];
  close: [[h: Handle], null];
  /** Whole, or (from the agent, when large) in the pieces it arrived in: nothing joins them. */
  read: [[h: Handle, position: number, length: number], Uint8Array | readonly Uint8Array[]];
  write: [[h: Handle, position: number, data: Uint8Array], number];
  fstat: [[h: Handle], WireStat];
  ftruncate: [[h: Handle, length: number], null];
  fsync: [[h: Handle], null];
  stat: [[path: Path], WireStat];
  lstat: [[path: Path], WireStat];
  readdir: [[path: Path], WireDirEntry[]];
  mkdir: [[path: Path, mode: number], null];
  mkdirAll: [[path: Path, mode: number], null];
  unlink: [[path: Path], null];
  rmdir: [[path: Path], null];
  remove: [[path: Path], null];
  rename: [[from: Path, to: Path], null];
  chmod: [[path: Path, mode: number], null];
  chown: [[path: Path, uid: number, gid: number], null];
  truncate: [[path: Path, length: number], null];
  utimes: [[path: Path, atimeMs: number, mtimeMs: number], null];
  readlink: [[path: Path], Uint8Array];
  symlink: [[target: Path, path: Path], null];
  link: [[existing: Path, path: Path], null];
  realpath: [[path: Path], Uint8Array];
  statfs: [[path: Path], WireStatfs];
  getwd: [[], Uint8Array];
  /** The first `limit` bytes (at most MAX_IO) of a file, in one round trip: open, read, close. */
  readFile: [[path: Path, limit: number], Uint8Array];
  /**
   * The first `limit` bytes (at most MAX_IO) of each named file in `dir`, in one round trip;
   * null for one that cannot be read. The caller keeps names × limit within a frame.
   */
  readFiles: [[dir: Path, names: Path[], limit: number], (Uint8Array | null)[]];
}

export type FileOpName = keyof FileOps;
export type FileOpArgs<K extends FileOpName> = FileOps[K][0];
export type FileOpResult<K extends FileOpName> = FileOps[K][1];

export const FILE_OP_NAMES: readonly FileOpName[] = [
  'open',
  'close',
  'read',
  'write',
  'fstat',
  'ftruncate',
  'fsync',
  'stat',
  'lstat',
  'readdir',
  'mkdir',
  'mkdirAll',
  'unlink',
  'rmdir',
  'remove',
  'rename',
  'chmod',
  'chown',
  'truncate',
  'utimes',
  'readlink',
  'symlink',
  'link',
  'realpath',
  'statfs',
  'getwd',
  'readFile',
  'readFiles',
];

/** readFiles by one readFile each, for backends with nothing better. */
export function readFilesEach(
  dir: Uint8Array,
  names: readonly Uint8Array[],
  limit: number,
  readFile: (path: Uint8Array, limit: number) => Promise<Uint8Array>,
): Promise<(Uint8Array | null)[]> {
  const base = Buffer.from(dir);
  const prefix = base.at(-1) === 0x2f ? base : Buffer.concat([base, Buffer.from('/')]);
  return Promise.all(names.map((name) => readFile(Buffer.concat([prefix, Buffer.from(name)]), limit).catch(() => null)));
}

/** Largest read or write in one operation; the client splits larger ones. */
export const MAX_IO = 1024 * 1024;

/** A read's bytes as one buffer, whether they came whole or in pieces. */
export function joinBytes(bytes: Uint8Array | readonly Uint8Array[]): Buffer {
  const one = bytes instanceof Uint8Array ? bytes : bytes.length === 1 ? bytes[0] : undefined;
  if (one !== undefined) return Buffer.from(one.buffer, one.byteOffset, one.byteLength);
  return Buffer.concat(bytes as readonly Uint8Array[]);
}

/**
 * readdir's answer on the agent's wire: each entry one list, `[name, ...STAT_FIELDS]` (or just
 * `[name]` when it vanished before its lstat), not a map with twelve keys per entry — a
 * 10,000-entry walk cost the agent ~30 ms to encode and mproxy as much to decode that way.
 */
const STAT_FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blocks', 'atimeMs', 'mtimeMs', 'ctimeMs'] as const;

export function packDirEntries(entries: readonly WireDirEntry[]): unknown[] {
  return entries.map((e) => (e.st === undefined ? [e.name] : [e.name, ...STAT_FIELDS.map((k) => (e.st as WireStat)[k])]));
}

/** The entries of a packed readdir answer; undefined when it is not one. */
export function unpackDirEntries(packed: unknown): WireDirEntry[] | undefined {
  if (!Array.isArray(packed)) return undefined;
  const out: WireDirEntry[] = [];
  for (const e of packed) {
    if (!Array.isArray(e) || !(e[0] instanceof Uint8Array)) return undefined;
    if (e.length === 1) {
      out.push({ name: e[0] });
      continue;
    }
    if (e.length !== STAT_FIELDS.length + 1 || !e.every((v, i) => i === 0 || typeof v === 'number')) return undefined;
    const [dev, ino, mode, nlink, uid, gid, rdev, size, blocks, atimeMs, mtimeMs, ctimeMs] = e.slice(1) as number[];
    out.push({ name: e[0], st: { dev, ino, mode, nlink, uid, gid, rdev, size, blocks, atimeMs, mtimeMs, ctimeMs } as WireStat });
  }
  return out;
}

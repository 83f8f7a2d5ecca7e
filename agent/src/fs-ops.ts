/**
 * File operations served to mproxy, each an async function over node:fs with byte paths.
 * Arguments arrive from the wire as `unknown[]` and are checked here before use; a failure is
 * reported as its errno name (ENOENT, EACCES, EISDIR…) and message.
 */
import { lstatSync, promises as fs, type BigIntStats, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Pieces } from '../../src/protocol/payloads.js';
import { FILE_OP_NAMES, packDirEntries, MAX_IO, type FileOpName, type WireDirEntry, type WireStat } from '../../src/protocol/file-ops.js';

export class ArgumentError extends Error {}

const handles = new Map<number, FileHandle>();
let nextHandle = 1;

function path(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v);
  throw new ArgumentError('expected a path');
}
function n(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError('expected a number');
  return v;
}
function handle(v: unknown): FileHandle {
  const h = handles.get(n(v));
  if (h === undefined) throw Object.assign(new Error('bad file handle'), { code: 'EBADF' });
  return h;
}

export function wireStat(s: Stats | BigIntStats): WireStat {
  const num = (x: number | bigint): number => Number(x);
  return {
    dev: num(s.dev),
    ino: num(s.ino),
    mode: num(s.mode),
    nlink: num(s.nlink),
    uid: num(s.uid),
    gid: num(s.gid),
    rdev: num(s.rdev),
    size: num(s.size),
    blocks: num(s.blocks),
    atimeMs: num(s.atimeMs),
    mtimeMs: num(s.mtimeMs),
    ctimeMs: num(s.ctimeMs),
  };
}

/** lstat calls made in one go before the event loop gets a turn (~1 ms: exec streams wait no longer). */
const LSTAT_BATCH = 256;

/**
 * The entries of a directory with their lstat. The stats are taken synchronously in batches:
 * one promise and one thread-pool hop per entry cost the agent more than the lstat itself.
 */
async function readdirWithStats(dir: Buffer): Promise<WireDirEntry[]> {
  const names = await fs.readdir(dir, { encoding: 'buffer' });
  const prefix = Buffer.concat([dir, Buffer.from('/')]);
  const out: WireDirEntry[] = [];
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && i % LSTAT_BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
    const name = names[i] as Buffer;
    let st: Stats | undefined;
    try {
      st = lstatSync(Buffer.concat([prefix, name]), { throwIfNoEntry: false });
    } catch {
      // Listed but not stat-able (a directory readable without search permission): the name alone.
    }
    out.push(st === undefined ? { name } : { name, st: wireStat(st) });
  }
  return out;
}

type Op = (a: readonly unknown[]) => Promise<unknown>;

const OPS: Readonly<Record<FileOpName, Op>> = {
  open: async ([p, flags, mode]) => {
    const h = await fs.open(path(p), n(flags), n(mode));
    const id = nextHandle++;
    handles.set(id, h);
    return id;
  },
  close: async ([h]) => {
    const fh = handle(h);
    handles.delete(n(h));
    await fh.close();
    return null;
  },
  read: async ([h, pos, len]) => {
    const buf = Buffer.allocUnsafe(Math.min(n(len), MAX_IO));
    const { bytesRead } = await handle(h).read(buf, 0, buf.length, n(pos));
    return buf.subarray(0, bytesRead);
  },
  // A large write's data comes in the pieces it arrived in: written as they are, never joined.
  write: async ([h, pos, data]) =>
    (data instanceof Pieces
      ? await handle(h).writev([...data.parts], n(pos))
      : await handle(h).write(path(data), 0, path(data).length, n(pos))
    ).bytesWritten,
  fstat: async ([h]) => wireStat(await handle(h).stat()),
  ftruncate: async ([h, len]) => (await handle(h).truncate(n(len)), null),
  fsync: async ([h]) => (await handle(h).sync(), null),
  stat: async ([p]) => wireStat(await fs.stat(path(p))),
  lstat: async ([p]) => wireStat(await fs.lstat(path(p))),
  readdir: async ([p]) => packDirEntries(await readdirWithStats(path(p))),
  mkdir: async ([p, mode]) => (await fs.mkdir(path(p), { mode: n(mode) }), null),
  mkdirAll: async ([p, mode]) => (await fs.mkdir(path(p), { mode: n(mode), recursive: true }), null),
  unlink: async ([p]) => (await fs.unlink(path(p)), null),
  rmdir: async ([p]) => (await fs.rmdir(path(p)), null),
  remove: async ([p]) => {
    const st = await fs.lstat(path(p));
    await (st.isDirectory() ? fs.rmdir(path(p)) : fs.unlink(path(p)));
    return null;
  },
  rename: async ([a, b]) => (await fs.rename(path(a), path(b)), null),
  chmod: async ([p, mode]) => (await fs.chmod(path(p), n(mode)), null),
  chown: async ([p, uid, gid]) => (await fs.lchown(path(p), n(uid), n(gid)), null),
  truncate: async ([p, len]) => (await fs.truncate(path(p), n(len)), null),
  utimes: async ([p, at, mt]) => (await fs.lutimes(path(p), n(at) / 1000, n(mt) / 1000), null),
  readlink: async ([p]) => fs.readlink(path(p), { encoding: 'buffer' }),
  symlink: async ([target, p]) => (await fs.symlink(path(target), path(p)), null),
  link: async ([a, b]) => (await fs.link(path(a), path(b)), null),
  realpath: async ([p]) => fs.realpath(path(p), { encoding: 'buffer' }),
  statfs: async ([p]) => {
    const s = await fs.statfs(path(p));
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
  },
  getwd: async () => Buffer.from(process.cwd()),
  readFile: async ([p, limit]) => readFirst(path(p), n(limit)),
  readFiles: async ([dir, names, limit]) => {
    if (!Array.isArray(names)) throw new ArgumentError('expected a list of names');
    const base = path(dir);
    return Promise.all(names.map((name) => readFirst(Buffer.concat([base, Buffer.from('/'), path(name)]), n(limit)).catch(() => null)));
  },
};

/** The first `limit` bytes (at most MAX_IO) of a file: open, read, close. */
async function readFirst(p: Buffer, limit: number): Promise<Buffer> {
  const fh = await fs.open(p, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(limit, MAX_IO));
    let got = 0;
    for (let r = 1; r > 0 && got < buf.length; got += r) r = (await fh.read(buf, got, buf.length - got, got)).bytesRead;
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

export function isFileOp(name: string): name is FileOpName {
  return (FILE_OP_NAMES as readonly string[]).includes(name);
}

export async function runFileOp(name: FileOpName, args: readonly unknown[]): Promise<unknown> {
  return OPS[name](args);
}

export async function closeAllHandles(): Promise<void> {
  await Promise.allSettled([...handles.values()].map((h) => h.close()));
  handles.clear();
}

/**
 * fuse-native, typed for what mproxy uses of it (the package ships no types). Callbacks take a
 * negative errno or 0 first; read and write take the byte count (or a negative errno) alone.
 */
import { createRequire } from 'node:module';

export type Cb = (code: number) => void;
export type ValueCb<T> = (code: number, value?: T) => void;

export interface FuseStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly dev: number;
  readonly nlink: number;
  readonly ino: number;
  readonly rdev: number;
  readonly blksize: number;
  readonly blocks: number;
  readonly atime: number;
  readonly mtime: number;
  readonly ctime: number;
}

export interface FuseStatfs {
  readonly bsize: number;
  readonly frsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
  readonly favail: number;
  readonly fsid: number;
  readonly flag: number;
  readonly namemax: number;
}

export interface FuseOps {
  init(cb: Cb): void;
  getattr(path: string, cb: ValueCb<FuseStat>): void;
  fgetattr(path: string, fd: number, cb: ValueCb<FuseStat>): void;
  access(path: string, mode: number, cb: Cb): void;
  statfs(path: string, cb: ValueCb<FuseStatfs>): void;
  readdir(path: string, cb: (code: number, names?: string[], stats?: FuseStat[]) => void): void;
  open(path: string, flags: number, cb: ValueCb<number>): void;
  create(path: string, mode: number, cb: ValueCb<number>): void;
  read(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void): void;
  write(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void): void;
  flush(path: string, fd: number, cb: Cb): void;
  fsync(path: string, datasync: boolean, fd: number, cb: Cb): void;
  release(path: string, fd: number, cb: Cb): void;
  truncate(path: string, size: number, cb: Cb): void;
  ftruncate(path: string, fd: number, size: number, cb: Cb): void;
  unlink(path: string, cb: Cb): void;
  rmdir(path: string, cb: Cb): void;
  mkdir(path: string, mode: number, cb: Cb): void;
  rename(src: string, dest: string, cb: Cb): void;
  symlink(target: string, path: string, cb: Cb): void;
  link(existing: string, path: string, cb: Cb): void;
  readlink(path: string, cb: ValueCb<string>): void;
  chmod(path: string, mode: number, cb: Cb): void;
  chown(path: string, uid: number, gid: number, cb: Cb): void;
  utimens(path: string, atime: number, mtime: number, cb: Cb): void;
}

export interface FuseMountOptions {
  readonly fsname?: string;
  readonly subtype?: string;
  readonly autoUnmount?: boolean;
  readonly autoCache?: boolean;
  readonly attrTimeout?: number;
  readonly entryTimeout?: number;
  readonly acAttrTimeout?: number;
  readonly maxRead?: number;
  readonly debug?: boolean;
}

export interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}

interface FuseModule {
  new (mnt: string, ops: FuseOps, opts: FuseMountOptions): FuseInstance;
}

/**
 * libfuse options fuse-native has no setting for (big_writes: 128 KiB writes instead of 4 KiB
 * ones). It joins its options into one `-o a,b,c` list, so these ride after the fsname.
 */
export function withRawOptions(opts: FuseMountOptions & { readonly fsname: string }, raw: readonly string[]): FuseMountOptions {
  return { ...opts, fsname: [opts.fsname, ...raw].join(',') };
}

let loaded: FuseModule | undefined;

/** The binding, loaded on first use (it needs libfuse.so.2: Debian's libfuse2). */
export function fuseNative(): FuseModule {
  loaded ??= createRequire(import.meta.url)('fuse-native') as FuseModule;
  return loaded;
}

/**
 * The protocol's file operations over SFTP, for remotes without the agent. SFTP v3 names only a
 * few errors (no such file, permission denied, "failure"), so a failure is examined (lstat of
 * the paths involved) to give the errno a POSIX call would have: EEXIST, ENOTEMPTY, EISDIR,
 * ENOTDIR. What SFTP cannot carry is stated: no inode numbers or link counts (0 and 1), times
 * in whole seconds. Paths that are not UTF-8 (SFTP's strings are text) go to a fallback that
 * runs sh on the remote, as do directories whose names did not survive decoding.
 */
import { constants } from 'node:fs';
import { readFilesEach, type FileOpArgs, type FileOpName, type FileOpResult, type WireDirEntry } from '../../protocol/file-ops.js';
import { RemoteFsError, type RemoteFs } from '../host.js';
import type { Sftp } from '../../transport/transport.js';
import { withTimeout } from '../../util/deadline.js';
import { isUtf8, O_ACCMODE, S_IFDIR, S_IFMT, SFTP_ERRNO, sftpFlags, text, wireStat, type SftpAttrs } from './sftp-attrs.js';

/** A RemoteFs for what SFTP cannot do, owning the handles it opened. */
export interface SftpFallback extends RemoteFs {
  owns(handle: number): boolean;
}

type Callback<T> = (err: (Error & { code?: number }) | undefined | null, value: T) => void;

export class SftpFs implements RemoteFs {
  private readonly handles = new Map<number, Buffer>();
  private nextHandle = 1;

  constructor(
    private readonly sftp: Sftp,
    /** Each operation's deadline: a stalled server fails it with ETIMEDOUT, never a hang. */
    private readonly opTimeoutMs: number,
    private readonly fallback?: SftpFallback,
  ) {}

  private call1<T>(op: string, fn: (cb: Callback<T>) => void): Promise<T> {
    return new Promise((resolve, reject) => fn((err, value) => (err ? reject(this.error(op, err)) : resolve(value))));
  }

  private error(op: string, err: Error & { code?: number }): RemoteFsError {
    return new RemoteFsError(SFTP_ERRNO[err.code ?? -1] ?? 'EIO', err.message, op);
  }

  private async lstatOrNull(path: string): Promise<SftpAttrs | null> {
    return this.call1<SftpAttrs>('lstat', (cb) => this.sftp.lstat(path, cb)).catch(() => null);
  }

  /** A better errno for a failure: examine what is at the paths. */
  private async diagnose(op: string, err: RemoteFsError, path: string): Promise<RemoteFsError> {
    const at = await this.lstatOrNull(path);
    const isDir = at !== null && (at.mode & S_IFMT) === S_IFDIR;
    let code = err.code;
    if (op === 'mkdir' && at !== null) code = 'EEXIST';
    else if (op === 'rmdir' && isDir) code = 'ENOTEMPTY';
    else if (op === 'rmdir' && at !== null) code = 'ENOTDIR';
    else if (op === 'open' && isDir) code = 'EISDIR';
    else if (code === 'ENOENT' || code === 'EIO') {
      // ENOENT for a/b/c where a/b is a file is ENOTDIR to a POSIX caller.
      const parts = path.split('/');
      for (let i = parts.length - 1; i > 1; i--) {
        const parent = await this.lstatOrNull(parts.slice(0, i).join('/'));
        if (parent !== null) {
          if ((parent.mode & S_IFMT) !== S_IFDIR) code = 'ENOTDIR';
          break;
        }
      }
    }
    return code === err.code ? err : new RemoteFsError(code, `${op} ${path}: ${code}`, op);
  }

  private async onPath<T>(op: string, path: Uint8Array, run: (p: string) => Promise<T>): Promise<T> {
    const p = text(path, op);
    try {
      return await run(p);
    } catch (err) {
      throw err instanceof RemoteFsError ? await this.diagnose(op, err, p) : err;
    }
  }

  private handle(h: number, op: string): Buffer {
    const handle = this.handles.get(h);
    if (handle === undefined) throw new RemoteFsError('EBADF', 'bad file handle', op);
    return handle;
  }

  async call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> {
    const a = args as unknown as unknown[];
    const byHandle = typeof a[0] === 'number' && op !== 'open' && this.fallback?.owns(a[0]) === true;
    const binary = a.some((x) => x instanceof Uint8Array && op !== 'write' && !isUtf8(x));
    if (this.fallback !== undefined && (byHandle || binary)) return this.fallback.call(op, ...args);
    const result = await withTimeout(
      this.dispatch(op, a),
      this.opTimeoutMs,
      () => new RemoteFsError('ETIMEDOUT', `no answer from the SFTP server within ${this.opTimeoutMs / 1000}s`, op),
    );
    return result as FileOpResult<K>;
  }

  private async dispatch(op: FileOpName, a: unknown[]): Promise<unknown> {
    const s = this.sftp;
    const path = (i: number): Uint8Array => a[i] as Uint8Array;
    const num = (i: number): number => a[i] as number;
    switch (op) {
      case 'open':
        return this.onPath(op, path(0), async (p) => {
          const flags = num(1);
          if ((flags & O_ACCMODE) !== constants.O_RDONLY) {
            const at = await this.lstatOrNull(p);
            if (at !== null && (at.mode & S_IFMT) === S_IFDIR) throw new RemoteFsError('EISDIR', `open ${p}: is a directory`, op);
          }
          const handle = await this.call1<Buffer>(op, (cb) => s.open(p, sftpFlags(flags), { mode: num(2) }, cb)).catch(
            async (err: RemoteFsError) => {
              throw (flags & constants.O_EXCL) !== 0 && (await this.lstatOrNull(p)) !== null
                ? new RemoteFsError('EEXIST', `open ${p}: file exists`, op)
                : err;
            },
          );
          const id = this.nextHandle++;
          this.handles.set(id, handle);
          return id;
        });
      case 'close': {
        const handle = this.handle(num(0), op);
        this.handles.delete(num(0));
        await this.call1<void>(op, (cb) => s.close(handle, cb));
        return null;
      }
      case 'read': {
        const handle = this.handle(num(0), op);
        const buf = Buffer.alloc(Math.min(num(2), 1 << 20));
        const n = await new Promise<number>((resolve, reject) =>
          s.read(handle, buf, 0, buf.length, num(1), (err, bytesRead) =>
            err ? ((err as { code?: number }).code === 1 ? resolve(0) : reject(this.error(op, err))) : resolve(bytesRead),
          ),
        );
        return buf.subarray(0, n);
      }
      case 'write': {
        const handle = this.handle(num(0), op);
        const data = Buffer.from(a[2] as Uint8Array);
        await this.call1<void>(op, (cb) => s.write(handle, data, 0, data.length, num(1), cb));
        return data.length;
      }
      case 'fstat':
        return wireStat(await this.call1<SftpAttrs>(op, (cb) => s.fstat(this.handle(num(0), op), cb)));
      case 'ftruncate':
        return this.call1<void>(op, (cb) => s.fsetstat(this.handle(num(0), op), { size: num(1) }, cb)).then(() => null);
      case 'fsync':
        return this.call1<void>(op, (cb) => s.ext_openssh_fsync(this.handle(num(0), op), cb)).then(() => null);
      case 'stat':
        return this.onPath(op, path(0), async (p) => wireStat(await this.call1<SftpAttrs>(op, (cb) => s.stat(p, cb))));
      case 'lstat':
        return this.onPath(op, path(0), async (p) => wireStat(await this.call1<SftpAttrs>(op, (cb) => s.lstat(p, cb))));
      case 'readdir':
        return this.onPath(op, path(0), (p) => this.readdir(p));
      case 'mkdir':
        return this.onPath(op, path(0), (p) => this.call1<void>(op, (cb) => s.mkdir(p, { mode: num(1) }, cb))).then(() => null);
      case 'mkdirAll':
        return this.onPath(op, path(0), (p) => this.mkdirAll(p, num(1))).then(() => null);
      case 'unlink':
        return this.onPath(op, path(0), (p) => this.call1<void>(op, (cb) => s.unlink(p, cb))).then(() => null);
      case 'rmdir':
        return this.onPath(op, path(0), (p) => this.call1<void>(op, (cb) => s.rmdir(p, cb))).then(() => null);
      case 'remove':
        return this.onPath(op, path(0), async (p) => {
          const at = await this.call1<SftpAttrs>('lstat', (cb) => s.lstat(p, cb));
          await this.call1<void>((at.mode & S_IFMT) === S_IFDIR ? 'rmdir' : 'unlink', (cb) =>
            (at.mode & S_IFMT) === S_IFDIR ? s.rmdir(p, cb) : s.unlink(p, cb),
          );
          return null;
        });
      case 'rename':
        // posix-rename replaces an existing target, as rename(2) does; plain SFTP rename refuses.
        return this.onPath(op, path(0), (from) => this.call1<void>(op, (cb) => s.ext_openssh_rename(from, text(path(1), op), cb))).then(
          () => null,
        );
      case 'chmod':
        return this.onPath(op, path(0), (p) => this.call1<void>(op, (cb) => s.chmod(p, num(1), cb))).then(() => null);
      case 'chown':
        return this.onPath(op, path(0), (p) =>
          this.call1<void>(op, (cb) => s.ext_openssh_lsetstat(p, { uid: num(1), gid: num(2) }, cb)),
        ).then(() => null);
      case 'truncate':
        return this.onPath(op, path(0), (p) => this.call1<void>(op, (cb) => s.setstat(p, { size: num(1) }, cb))).then(() => null);
      case 'utimes':
        return this.onPath(op, path(0), (p) =>
          this.call1<void>(op, (cb) => s.ext_openssh_lsetstat(p, { atime: num(1) / 1000, mtime: num(2) / 1000 }, cb)),
        ).then(() => null);
      case 'readlink':
        return this.onPath(op, path(0), async (p) => Buffer.from(await this.call1<string>(op, (cb) => s.readlink(p, cb))));
      case 'symlink':
        // (ssh2 already swaps the arguments for OpenSSH's reversed SSH_FXP_SYMLINK.)
        return this.onPath(op, path(1), (p) => this.call1<void>(op, (cb) => s.symlink(text(path(0), op), p, cb))).then(() => null);
      case 'link':
        return this.onPath(op, path(0), (from) => this.call1<void>(op, (cb) => s.ext_openssh_hardlink(from, text(path(1), op), cb))).then(
          () => null,
        );
      case 'realpath':
        return this.onPath(op, path(0), async (p) => Buffer.from(await this.call1<string>(op, (cb) => s.realpath(p, cb))));
      case 'statfs':
        return this.onPath(op, path(0), async (p) => {
          type Vfs = {
            f_frsize: number;
            f_bsize: number;
            f_blocks: number;
            f_bfree: number;
            f_bavail: number;
            f_files: number;
            f_ffree: number;
          };
          const v = await this.call1<Vfs>(op, (cb) =>
            s.ext_openssh_statvfs(p, cb as unknown as (err: Error | undefined, fsInfo: unknown) => void),
          );
          return {
            bsize: Number(v.f_frsize || v.f_bsize),
            blocks: Number(v.f_blocks),
            bfree: Number(v.f_bfree),
            bavail: Number(v.f_bavail),
            files: Number(v.f_files),
            ffree: Number(v.f_ffree),
          };
        });
      case 'getwd':
        return Buffer.from(await this.call1<string>(op, (cb) => s.realpath('.', cb)));
      case 'readFile': {
        const h = (await this.dispatch('open', [path(0), constants.O_RDONLY, 0])) as number;
        try {
          return await this.dispatch('read', [h, 0, num(1)]);
        } catch (err) {
          // OpenSSH opens a directory for reading, then fails the read with a bare "failure".
          const at = await this.lstatOrNull(text(path(0), op));
          throw at !== null && (at.mode & S_IFMT) === S_IFDIR ? new RemoteFsError('EISDIR', 'is a directory', op) : err;
        } finally {
          await this.dispatch('close', [h]).catch(() => undefined);
        }
      }
      case 'readFiles':
        return readFilesEach(
          path(0),
          a[1] as Uint8Array[],
          num(2),
          async (p, limit) => (await this.dispatch('readFile', [p, limit])) as Uint8Array,
        );
    }
  }

  private async readdir(p: string): Promise<WireDirEntry[]> {
    const list = await this.call1<{ filename: string; attrs: SftpAttrs }[]>('readdir', (cb) => this.sftp.readdir(p, cb));
    // A name that was not UTF-8 came back with U+FFFD in it: only sh can list it as it is.
    if (this.fallback !== undefined && list.some((e) => e.filename.includes('\uFFFD')))
      return this.fallback.call('readdir', Buffer.from(p));
    return list
      .filter((e) => e.filename !== '.' && e.filename !== '..')
      .map((e) => ({ name: Buffer.from(e.filename), st: wireStat(e.attrs) }));
  }

  private async mkdirAll(p: string, mode: number): Promise<void> {
    const at = await this.lstatOrNull(p);
    if (at !== null) {
      if ((at.mode & S_IFMT) !== S_IFDIR) throw new RemoteFsError('ENOTDIR', `${p} exists and is not a directory`, 'mkdirAll');
      return;
    }
    const parent = p.slice(0, p.lastIndexOf('/'));
    if (parent !== '') await this.mkdirAll(parent, mode);
    await this.call1<void>('mkdir', (cb) => this.sftp.mkdir(p, { mode }, cb)).catch(async (err: RemoteFsError) => {
      if ((await this.lstatOrNull(p)) === null) throw err;
    });
  }
}

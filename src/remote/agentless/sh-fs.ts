/**
 * RemoteFs over POSIX sh scripts (sh-fs-scripts.ts), one remote shell per operation: the files
 * of a Docker container without the agent, and SFTP's fallback for non-UTF-8 paths. Handles are
 * local (a path and the open flags, checked at open as open(2) would); errno comes from an
 * explicit marker or the tool's message, and ENOENT under a file component becomes ENOTDIR.
 */
import { constants } from 'node:fs';
import {
  MAX_IO,
  readFilesEach,
  type FileOpArgs,
  type FileOpName,
  type FileOpResult,
  type WireDirEntry,
  type WireStat,
  type WireStatfs,
} from '../../protocol/file-ops.js';
import { RemoteFsError, type RemoteFs } from '../host.js';
import { SCRIPTS, script } from './sh-fs-scripts.js';
import type { ScriptResult } from '../../transport/transport.js';

/** Runs one POSIX sh script on the remote with `stdin` as its input. */
export type ShellRunner = (script: string, stdin?: Uint8Array) => Promise<ScriptResult>;

/** strerror texts (and busybox's and dash's own phrasings) to errno names. */
const MESSAGES: readonly (readonly [RegExp, string])[] = [
  [/no such file or directory|nonexistent directory|directory nonexistent/i, 'ENOENT'],
  [/permission denied/i, 'EACCES'],
  [/operation not permitted/i, 'EPERM'],
  [/file exists/i, 'EEXIST'],
  [/is a directory/i, 'EISDIR'],
  [/not a directory/i, 'ENOTDIR'],
  [/directory not empty/i, 'ENOTEMPTY'],
  [/no space left on device/i, 'ENOSPC'],
  [/read-only file system/i, 'EROFS'],
  [/too many levels of symbolic links/i, 'ELOOP'],
  [/file name too long/i, 'ENAMETOOLONG'],
  [/cross-device link/i, 'EXDEV'],
  [/text file busy/i, 'ETXTBSY'],
  [/quota exceeded/i, 'EDQUOT'],
  [/resource busy/i, 'EBUSY'],
  [/invalid argument/i, 'EINVAL'],
];

function errnoOf(stderr: Buffer): string {
  const text = stderr.toString('latin1');
  const marked = /\u0000errno:([A-Z0-9]+)/.exec(text);
  if (marked?.[1] !== undefined) return marked[1];
  return MESSAGES.find(([re]) => re.test(text))?.[1] ?? 'EIO';
}

function parseStat(line: string, op: string): WireStat {
  const f = line.trim().split(' ');
  if (f.length !== 14) throw new RemoteFsError('EIO', `unexpected stat output: ${JSON.stringify(line)}`, op);
  const n = (i: number): number => Number(f[i]);
  const hex = (i: number): number => parseInt(f[i] ?? '0', 16);
  const [major, minor] = [hex(6), hex(7)];
  return {
    dev: n(0),
    ino: n(1),
    mode: hex(2),
    nlink: n(3),
    uid: n(4),
    gid: n(5),
    rdev: (major & 0xfff) * 256 + (minor & 0xff) + (minor & ~0xff) * 4096,
    size: n(8),
    blocks: Math.ceil((n(9) * n(10)) / 512),
    atimeMs: n(11) * 1000,
    mtimeMs: n(12) * 1000,
    ctimeMs: n(13) * 1000,
  };
}

/** Output of a one-path tool, less the newline it ended with. */
function line(out: Buffer): Buffer {
  return out.at(-1) === 0x0a ? out.subarray(0, -1) : out;
}

interface Handle {
  readonly path: Uint8Array;
  readonly flags: number;
}

export class ShellFs implements RemoteFs {
  private readonly handles = new Map<number, Handle>();

  /** `nextHandle`: where this instance's handle numbers start, so another RemoteFs can share a space. */
  constructor(
    private readonly run: ShellRunner,
    private nextHandle = 1,
  ) {}

  owns(handle: number): boolean {
    return this.handles.has(handle);
  }

  async call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> {
    return (await this.dispatch(op, args as unknown as unknown[])) as FileOpResult<K>;
  }

  private async sh(op: string, body: string, paths: readonly Uint8Array[], stdin?: Uint8Array): Promise<Buffer> {
    const vars = paths.map((b, i) => [i === 0 ? 'p' : 'q', b] as const);
    const r = await this.run(script(body, vars), stdin);
    if (r.code === 0) return r.stdout;
    let code = errnoOf(r.stderr);
    const first = paths[0];
    if (code === 'ENOENT' && first !== undefined && (await this.underFile(first))) code = 'ENOTDIR';
    throw new RemoteFsError(
      code,
      r.stderr
        .toString()
        .replace(/\u0000errno:[A-Z0-9]+\n?/, '')
        .trim() || code,
      op,
    );
  }

  /** Does a component of `path` name something that is not a directory? */
  private async underFile(path: Uint8Array): Promise<boolean> {
    const walk = 'd=$p; while :; do d=${d%/*}; [ -z "$d" ] && break; if here "$d"; then [ -d "$d" ] || echo file; break; fi; done';
    const r = await this.run(script(walk, [['p', path]]));
    return r.stdout.toString().startsWith('file');
  }

  private handle(h: number, op: string): Handle {
    const handle = this.handles.get(h);
    if (handle === undefined) throw new RemoteFsError('EBADF', 'bad file handle', op);
    return handle;
  }

  private async dispatch(op: FileOpName, a: unknown[]): Promise<unknown> {
    const path = (i: number): Uint8Array => a[i] as Uint8Array;
    const num = (i: number): number => a[i] as number;
    const none = (p: Promise<unknown>): Promise<null> => p.then(() => null);
    switch (op) {
      case 'open': {
        const flags = num(1);
        const access = flags & 3;
        const check = {
          read: access !== constants.O_WRONLY,
          write: access !== constants.O_RDONLY,
          create: (flags & constants.O_CREAT) !== 0,
          exclusive: (flags & constants.O_EXCL) !== 0,
          truncate: (flags & constants.O_TRUNC) !== 0,
          mode: num(2),
        };
        await this.sh(op, SCRIPTS.open(check), [path(0)]);
        const id = this.nextHandle++;
        this.handles.set(id, { path: path(0), flags });
        return id;
      }
      case 'close':
        this.handle(num(0), op);
        this.handles.delete(num(0));
        return null;
      case 'read': {
        const h = this.handle(num(0), op);
        if ((h.flags & 3) === constants.O_WRONLY) throw new RemoteFsError('EBADF', 'not open for reading', op);
        return this.sh(op, SCRIPTS.read(num(1), num(2)), [h.path]);
      }
      case 'write': {
        const h = this.handle(num(0), op);
        if ((h.flags & 3) === constants.O_RDONLY) throw new RemoteFsError('EBADF', 'not open for writing', op);
        const data = a[2] as Uint8Array;
        await this.sh(op, (h.flags & constants.O_APPEND) !== 0 ? SCRIPTS.append() : SCRIPTS.write(num(1)), [h.path], data);
        return data.length;
      }
      case 'fstat':
        return parseStat((await this.sh(op, SCRIPTS.stat(), [this.handle(num(0), op).path])).toString(), op);
      case 'ftruncate':
        return none(this.sh(op, SCRIPTS.truncate(num(1)), [this.handle(num(0), op).path]));
      case 'fsync':
        return none(this.sh(op, SCRIPTS.fsync(), [this.handle(num(0), op).path]));
      case 'stat':
      case 'lstat':
        return parseStat((await this.sh(op, SCRIPTS[op](), [path(0)])).toString(), op);
      case 'readdir':
        return this.readdir(path(0));
      case 'mkdir':
      case 'mkdirAll':
        return none(this.sh(op, SCRIPTS[op](num(1)), [path(0)]));
      case 'unlink':
      case 'rmdir':
      case 'remove':
        return none(this.sh(op, SCRIPTS[op](), [path(0)]));
      case 'rename':
      case 'symlink':
      case 'link':
        return none(this.sh(op, SCRIPTS[op](), [path(0), path(1)]));
      case 'chmod':
        return none(this.sh(op, SCRIPTS.chmod(num(1)), [path(0)]));
      case 'chown':
        return none(this.sh(op, SCRIPTS.chown(num(1), num(2)), [path(0)]));
      case 'truncate':
        return none(this.sh(op, SCRIPTS.truncate(num(1)), [path(0)]));
      case 'utimes':
        return none(this.sh(op, SCRIPTS.utimes(num(1), num(2)), [path(0)]));
      case 'readlink':
      case 'realpath':
        return line(await this.sh(op, SCRIPTS[op](), [path(0)]));
      case 'statfs':
        return this.statfs(path(0));
      case 'getwd':
        return line(await this.sh(op, SCRIPTS.getwd(), []));
      case 'readFile':
        return this.sh(op, SCRIPTS.readFile(Math.min(num(1), MAX_IO)), [path(0)]);
      case 'readFiles':
        return readFilesEach(
          path(0),
          a[1] as Uint8Array[],
          num(2),
          async (p, limit) => (await this.dispatch('readFile', [p, limit])) as Uint8Array,
        );
    }
  }

  private async readdir(dir: Uint8Array): Promise<WireDirEntry[]> {
    const out = await this.sh('readdir', SCRIPTS.readdir(), [dir]);
    let at = out.indexOf(0);
    const count = Number(out.subarray(0, at).toString());
    const names: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const end = out.indexOf(0, at + 1);
      if (end < 0) throw new RemoteFsError('EIO', 'truncated directory listing', 'readdir');
      names.push(out.subarray(at + 1, end));
      at = end;
    }
    const stats = out
      .subarray(at + 1)
      .toString('latin1')
      .split('\n');
    return names.map((name, i) => {
      const st = stats[i];
      return st === undefined || st === '-' || st === '' ? { name } : { name, st: parseStat(st, 'readdir') };
    });
  }

  private async statfs(path: Uint8Array): Promise<WireStatfs> {
    const [bsize = 0, blocks = 0, bfree = 0, bavail = 0, files = 0, ffree = 0] = (await this.sh('statfs', SCRIPTS.statfs(), [path]))
      .toString()
      .trim()
      .split(' ')
      .map(Number);
    return { bsize, blocks, bfree, bavail, files, ffree };
  }
}

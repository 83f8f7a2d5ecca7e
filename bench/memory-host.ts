/**
 * A remote that costs nothing: file operations answered from memory, for bench/fs-floor. It
 * stands in for the agent tier (watches, so long lifetimes and the writeback cache), so what a
 * mount of it costs is what mproxy's own FUSE layer costs: the floor under bench/fs's figures.
 * Only what a walk, a read and a write of a file need; file contents are shared, not copied.
 */
import { constants, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileOpArgs, FileOpName, FileOpResult, WireDirEntry, WireStat } from '../src/protocol/file-ops.js';
import { RemoteFsError, type RemoteHost } from '../src/remote/host.js';

interface MemNode {
  st: WireStat;
  data?: Buffer;
  entries?: Map<string, MemNode>;
}

let nextIno = 100;

function stat(mode: number, size: number): WireStat {
  const t = Date.now();
  return {
    dev: 1,
    ino: nextIno++,
    mode,
    nlink: 1,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    rdev: 0,
    size,
    blocks: Math.ceil(size / 512),
    atimeMs: t,
    mtimeMs: t,
    ctimeMs: t,
  };
}

export class MemoryTree {
  readonly root: MemNode = { st: stat(constants.S_IFDIR | 0o755, 4096), entries: new Map() };

  dir(path: string): MemNode {
    let node = this.root;
    for (const name of path.split('/').filter(Boolean)) {
      let next = node.entries?.get(name);
      if (next === undefined) {
        next = { st: stat(constants.S_IFDIR | 0o755, 4096), entries: new Map() };
        node.entries?.set(name, next);
      }
      node = next;
    }
    return node;
  }

  file(path: string, data: Buffer): void {
    const at = path.lastIndexOf('/');
    this.dir(path.slice(0, at)).entries?.set(path.slice(at + 1), { st: stat(constants.S_IFREG | 0o644, data.length), data });
  }

  /** A copy of local directory `dir` (files and directories, with their modes) at `at`. */
  load(dir: string, at = ''): void {
    for (const name of readdirSync(dir)) {
      const local = join(dir, name);
      const st = lstatSync(local);
      if (st.isDirectory()) {
        const d = this.dir(`${at}/${name}`);
        d.st = { ...d.st, mode: st.mode };
        this.load(local, `${at}/${name}`);
      } else if (st.isFile()) {
        this.file(`${at}/${name}`, readFileSync(local));
        const node = this.find(Buffer.from(`${at}/${name}`));
        node.st = { ...node.st, mode: st.mode };
      }
    }
  }

  find(path: Uint8Array): MemNode {
    let node: MemNode | undefined = this.root;
    for (const name of Buffer.from(path).toString().split('/').filter(Boolean)) node = node?.entries?.get(name);
    if (node === undefined) throw new RemoteFsError('ENOENT', 'no such file', 'memory');
    return node;
  }
}

type Impl = { [K in FileOpName]?: (...args: FileOpArgs<K>) => FileOpResult<K> };

export function memoryHost(tree: MemoryTree): RemoteHost {
  const handles = new Map<number, MemNode>();
  let nextHandle = 1;
  const parentOf = (p: Uint8Array): [MemNode, string] => {
    const s = Buffer.from(p).toString();
    const at = s.lastIndexOf('/');
    return [tree.find(Buffer.from(s.slice(0, at))), s.slice(at + 1)];
  };
  const impl: Impl = {
    stat: (p) => tree.find(p).st,
    lstat: (p) => tree.find(p).st,
    realpath: (p) => p,
    statfs: () => ({ bsize: 4096, blocks: 1 << 30, bfree: 1 << 29, bavail: 1 << 29, files: 1 << 20, ffree: 1 << 19 }),
    readdir: (p) => [...(tree.find(p).entries ?? [])].map(([name, n]): WireDirEntry => ({ name: Buffer.from(name), st: n.st })),
    open: (p, flags) => {
      let node: MemNode;
      if ((flags & constants.O_CREAT) !== 0) {
        const [dir, name] = parentOf(p);
        node = dir.entries?.get(name) ?? { st: stat(constants.S_IFREG | 0o644, 0), data: Buffer.alloc(0) };
        dir.entries?.set(name, node);
      } else node = tree.find(p);
      handles.set(nextHandle, node);
      return nextHandle++;
    },
    close: (h) => (handles.delete(h), null),
    read: (h, pos, len) => handles.get(h)?.data?.subarray(pos, pos + len) ?? Buffer.alloc(0),
    // Written bytes are counted, not kept: the floor of a write is the mount's, not memory's.
    write: (h, pos, data) => {
      const node = handles.get(h);
      if (node !== undefined) node.st = { ...node.st, size: Math.max(node.st.size, pos + data.length) };
      return data.length;
    },
    fstat: (h) => handles.get(h)?.st ?? stat(constants.S_IFREG, 0),
    fsync: () => null,
    ftruncate: (h, len) => {
      const node = handles.get(h);
      if (node !== undefined) node.st = { ...node.st, size: len };
      return null;
    },
    truncate: (p, len) => {
      const node = tree.find(p);
      node.st = { ...node.st, size: len };
      return null;
    },
    utimes: () => null,
    unlink: (p) => {
      const [dir, name] = parentOf(p);
      dir.entries?.delete(name);
      return null;
    },
    readFile: (p, limit) => tree.find(p).data?.subarray(0, limit) ?? Buffer.alloc(0),
    readFiles: (dir, names, limit) =>
      names.map((n) => tree.find(Buffer.concat([Buffer.from(dir), Buffer.from('/'), Buffer.from(n)])).data?.subarray(0, limit) ?? null),
  };
  return {
    fs: {
      call: async <K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> => {
        const f = impl[op] as ((...a: FileOpArgs<K>) => FileOpResult<K>) | undefined;
        if (f === undefined) throw new RemoteFsError('ENOSYS', `${op} is not in the memory remote`, op);
        return f(...args);
      },
    },
    isLost: false,
    exec: () => {
      throw new Error('the memory remote runs nothing');
    },
    pathQuery: async () => [],
    watch: async () => ({ close: () => undefined }),
    info: () => ({
      tier: 'agent',
      platform: 'linux',
      arch: process.arch,
      home: '/',
      user: 'bench',
      path: '/usr/bin:/bin',
      shell: '/bin/sh',
      capabilities: ['fs', 'watch'],
      limitations: [],
    }),
    close: async () => undefined,
  };
}

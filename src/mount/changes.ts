/**
 * The requests that change the remote: make, remove, rename and link names, and set
 * attributes. Each is done on the remote first; the node table and what is known of the
 * directories involved follow only once it succeeded. The kernel updates its own dentries for
 * what it asked, so no invalidation is sent for these (the remote's change notices for them
 * arrive later and are harmless).
 */
import { constants } from 'node:fs';
import type { WireStat } from '../protocol/file-ops.js';
import type { Handler, MountFs } from './filesystem.js';
import { Op, SetAttr, type FuseRequest } from './native.js';
import type { FsNode } from './nodes.js';

const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

function fail(code: string): never {
  throw Object.assign(new Error(code), { code });
}

export function changeHandlers(fs: MountFs): Record<number, Handler> {
  /**
   * `name` in `dir` was made (st), removed (null) or changed unknowably (undefined) by us: the
   * listing follows, so the next lookup in a directory being filled costs no new listing.
   */
  const touched = (dir: FsNode, name: string, st: WireStat | null | undefined): void => {
    fs.invalidation.mine(dir, name);
    dir.attrUntil = 0;
    if (dir.listing === undefined) return;
    if (st === undefined) dir.listing = undefined;
    else if (st === null) dir.listing.delete(name);
    else dir.listing.set(name, st);
  };

  /** Makes `req.name` in its parent by `make`, then answers with its attributes. */
  const make = async (req: FuseRequest, make: (path: Buffer) => Promise<unknown>): Promise<void> => {
    const parent = fs.node(req.ino);
    const name = req.name ?? '';
    const path = fs.remote(parent, name);
    fs.invalidation.mine(parent, name);
    await make(path);
    const st = await fs.call('lstat', path).catch((err: unknown) => {
      touched(parent, name, undefined);
      throw err;
    });
    touched(parent, name, st);
    fs.reply(req.id, parent, name, st);
  };

  /** unlink(2) or rmdir(2): the node lives on unnamed until forgotten; other names of a file see nlink drop. */
  const remove = async (req: FuseRequest, op: 'unlink' | 'rmdir'): Promise<void> => {
    const parent = fs.node(req.ino);
    const name = req.name ?? '';
    fs.invalidation.mine(parent, name);
    await fs.call(op, fs.remote(parent, name));
    touched(parent, name, null);
    const gone = fs.nodes.child(parent, name);
    if (gone !== undefined) {
      fs.contentsChanged(gone);
      for (const other of fs.nodes.sameFile(gone)) {
        fs.staleAttr(other);
        fs.kernel.invalInode(other.ino, false);
      }
    }
    fs.nodes.detach(parent, name);
    fs.kernel.ok(req.id);
  };

  const setattr = async (req: FuseRequest): Promise<void> => {
    const node = fs.node(req.ino);
    const path = fs.remote(node);
    const valid = req.valid ?? 0;
    if (node.parent !== undefined) fs.invalidation.mine(node.parent, node.name);
    if ((valid & SetAttr.Size) !== 0) {
      await fs.io(node).truncate(req.size ?? 0);
      fs.wrote(node);
    }
    if ((valid & SetAttr.Mode) !== 0) await fs.call('chmod', path, (req.mode ?? 0) & 0o7777);
    if ((valid & (SetAttr.Uid | SetAttr.Gid)) !== 0) {
      const known = node.attr ?? (await fs.fetchAttr(node));
      const [localUid, localGid] = [(valid & SetAttr.Uid) !== 0 ? (req.uid ?? 0) : -1, (valid & SetAttr.Gid) !== 0 ? (req.gid ?? 0) : -1];
      const [uid, gid] = fs.kernel.remoteIds(localUid, localGid);
      await fs.call('chown', path, uid === -1 ? known.uid : uid, gid === -1 ? known.gid : gid);
    }
    if ((valid & (SetAttr.Atime | SetAttr.Mtime)) !== 0) {
      await fs.settled(node);
      const known = node.attr ?? (await fs.fetchAttr(node));
      const time = (set: boolean, ms: number | undefined, old: number): number =>
        !set ? old : ms === undefined || ms < 0 ? Date.now() : ms;
      await fs.call(
        'utimes',
        path,
        time((valid & SetAttr.Atime) !== 0, req.atime, known.atimeMs),
        time((valid & SetAttr.Mtime) !== 0, req.mtime, known.mtimeMs),
      );
    }
    await fs.settled(node);
    const st = await fs.fetchAttr(node);
    fs.kernel.attrReply(req.id, node.ino, st, fs.ttlOf(node));
  };

  return {
    [Op.Mkdir]: (req) => make(req, (path) => fs.call('mkdir', path, (req.mode ?? 0o755) & 0o7777)),
    [Op.Mknod]: (req) =>
      make(req, async (path) => {
        if (((req.mode ?? 0) & constants.S_IFMT) !== constants.S_IFREG) fail('EPERM');
        const h = await fs.call('open', path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, (req.mode ?? 0o644) & 0o7777);
        await fs.call('close', h);
      }),
    [Op.Symlink]: (req) => make(req, (path) => fs.call('symlink', Buffer.from(req.name2 ?? ''), path)),
    [Op.Create]: async (req) => {
      const parent = fs.node(req.ino);
      const name = req.name ?? '';
      const path = fs.remote(parent, name);
      const flags = req.flags ?? 0;
      fs.invalidation.mine(parent, name);
      const readOnly = (flags & 3) === constants.O_RDONLY;
      const remoteFlags =
        constants.O_CREAT | (flags & (constants.O_EXCL | constants.O_TRUNC)) | (readOnly ? constants.O_RDONLY : constants.O_WRONLY);
      const h = await fs.call('open', path, remoteFlags, (req.mode ?? 0o644) & 0o7777);
      let st: WireStat;
      try {
        st = await fs.call('lstat', path);
      } catch (err) {
        await fs.call('close', h).catch(() => undefined);
        throw err;
      }
      if (readOnly) await fs.call('close', h).catch(() => undefined);
      touched(parent, name, st);
      fs.content.drop(fs.nodes.childPath(parent, name));
      fs.reply(req.id, parent, name, st, { handle: readOnly ? undefined : h });
    },
    [Op.Unlink]: (req) => remove(req, 'unlink'),
    [Op.Rmdir]: (req) => remove(req, 'rmdir'),
    [Op.Rename]: async (req) => {
      const parent = fs.node(req.ino);
      const newParent = fs.node(req.newParent ?? 0);
      const [name, newName] = [req.name ?? '', req.name2 ?? ''];
      const flags = req.flags ?? 0;
      if ((flags & RENAME_EXCHANGE) !== 0) fail('EINVAL');
      const from = fs.remote(parent, name);
      const to = fs.remote(newParent, newName);
      if ((flags & RENAME_NOREPLACE) !== 0) {
        const exists = await fs.call('lstat', to).then(
          () => true,
          () => false,
        );
        if (exists) fail('EEXIST');
      }
      const moving = fs.nodes.child(parent, name);
      const fromPath = moving === undefined ? undefined : fs.nodes.path(moving);
      fs.invalidation.mine(parent, name);
      fs.invalidation.mine(newParent, newName);
      await fs.call('rename', from, to);
      const movedSt = parent.listing?.get(name);
      touched(parent, name, null);
      touched(newParent, newName, movedSt);
      const replaced = fs.nodes.child(newParent, newName);
      if (replaced !== undefined) fs.contentsChanged(replaced);
      if (fromPath !== undefined) fs.content.dropBelow(fromPath), fs.content.drop(fromPath);
      fs.nodes.rename(parent, name, newParent, newName);
      if (moving !== undefined) fs.staleAttr(moving);
      fs.kernel.ok(req.id);
    },
    [Op.Link]: async (req) => {
      const node = fs.node(req.ino);
      const newParent = fs.node(req.newParent ?? 0);
      const name = req.name ?? '';
      const path = fs.remote(newParent, name);
      fs.invalidation.mine(newParent, name);
      if (node.parent !== undefined) fs.invalidation.mine(node.parent, node.name);
      await fs.call('link', fs.remote(node), path);
      fs.staleAttr(node);
      fs.kernel.invalInode(node.ino, false);
      const st = await fs.call('lstat', path);
      touched(newParent, name, st);
      fs.reply(req.id, newParent, name, st);
    },
    [Op.Setattr]: setattr,
  };
}

/**
 * SFTP v3's words for what the protocol's file operations say: open flags, attributes (no inode
 * numbers or link counts: 0 and 1; times in whole seconds), the few errors it names, and its
 * paths, which are text.
 */
import { constants } from 'node:fs';
import type { WireStat } from '../../protocol/file-ops.js';
import { RemoteFsError } from '../host.js';

export interface SftpAttrs {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly atime: number;
  readonly mtime: number;
}

export const SFTP_ERRNO: Readonly<Record<number, string>> = { 2: 'ENOENT', 3: 'EACCES', 8: 'ENOSYS' };
export const S_IFMT = 0o170000;
export const O_ACCMODE = 3;

/** POSIX open flags to SFTP's (READ 1, WRITE 2, APPEND 4, CREAT 8, TRUNC 16, EXCL 32). */
export function sftpFlags(flags: number): number {
  const access = flags & O_ACCMODE;
  let out = access === constants.O_RDONLY ? 1 : access === constants.O_WRONLY ? 2 : 3;
  if (flags & constants.O_APPEND) out |= 4;
  if (flags & constants.O_CREAT) out |= 8;
  if (flags & constants.O_TRUNC) out |= 16;
  if (flags & constants.O_EXCL) out |= 32;
  return out;
}
export const S_IFDIR = 0o040000;

export function wireStat(a: SftpAttrs): WireStat {
  return {
    dev: 0,
    ino: 0,
    mode: a.mode,
    nlink: 1,
    uid: a.uid,
    gid: a.gid,
    rdev: 0,
    size: a.size,
    blocks: Math.ceil(a.size / 512),
    atimeMs: a.atime * 1000,
    mtimeMs: a.mtime * 1000,
    ctimeMs: a.mtime * 1000,
  };
}

export function isUtf8(path: Uint8Array): boolean {
  return Buffer.from(Buffer.from(path).toString('utf8'), 'utf8').equals(Buffer.from(path));
}

export function text(path: Uint8Array, op: string): string {
  if (!isUtf8(path)) throw new RemoteFsError('EILSEQ', 'the path is not UTF-8, which SFTP cannot carry (the agent can)', op);
  return Buffer.from(path).toString('utf8');
}

/**
 * Reading and replacing whole files on the target for the file tools: a read is one round trip
 * up to 1 MiB (the protocol's readFile), then handle reads up to MAX_READ; a write goes to a
 * temporary file beside the target, is fsynced, given the old file's mode, and renamed over it,
 * so a reader never sees half a file and a failed write leaves the old one whole.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { posix } from 'node:path';
import { joinBytes, MAX_IO } from '../protocol/file-ops.js';
import { RemoteFsError, type RemoteFs } from '../remote/host.js';
import { MproxyError } from '../util/errors.js';

/** The most read_file and edit_file take of one file. */
export const MAX_READ = 16 * 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** The file's first `limit` bytes (MAX_READ at most), and whether there was more. */
export async function readWhole(fs: RemoteFs, path: string, limit = MAX_READ): Promise<{ bytes: Buffer; more: boolean }> {
  const p = Buffer.from(path);
  const first = Buffer.from(await fs.call('readFile', p, Math.min(MAX_IO, limit + 1)));
  // Asked for one byte past the limit, or got less than a full first read: nothing more to fetch.
  if (limit < MAX_IO || first.length < MAX_IO) return { bytes: first.subarray(0, limit), more: first.length > limit };
  const parts: Buffer[] = [first];
  let got = first.length;
  const h = await fs.call('open', p, constants.O_RDONLY, 0);
  try {
    while (got <= limit) {
      const d = joinBytes(await fs.call('read', h, got, Math.min(MAX_IO, limit + 1 - got)));
      if (d.length === 0) break;
      parts.push(Buffer.from(d));
      got += d.length;
    }
  } finally {
    await fs.call('close', h).catch(() => undefined);
  }
  const all = Buffer.concat(parts);
  return { bytes: all.subarray(0, limit), more: all.length > limit };
}

/** The mode bits an existing file has, undefined when there is none; a directory is refused. */
async function existingMode(fs: RemoteFs, path: string): Promise<number | undefined> {
  try {
    const st = await fs.call('stat', Buffer.from(path));
    if ((st.mode & S_IFMT) === S_IFDIR) throw new MproxyError('E_TOOL', `${path} is a directory`);
    return st.mode & 0o7777;
  } catch (err) {
    if (err instanceof RemoteFsError && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Replaces `path` with `data` atomically; `parents`: make missing directories first. Returns
 * whether the file is new.
 */
export async function replaceFile(fs: RemoteFs, path: string, data: Uint8Array, parents: boolean): Promise<{ created: boolean }> {
  const dir = posix.dirname(path);
  if (parents) await fs.call('mkdirAll', Buffer.from(dir), 0o777);
  const mode = await existingMode(fs, path);
  const temp = posix.join(dir, `.${posix.basename(path)}.mproxy-${randomBytes(4).toString('hex')}`);
  const t = Buffer.from(temp);
  let h: number;
  try {
    h = await fs.call('open', t, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode ?? 0o666);
  } catch (err) {
    if (err instanceof RemoteFsError && err.code === 'ENOENT')
      throw new MproxyError('E_TOOL', `${dir} does not exist`, { hint: 'ask with create_parents: true to make it' });
    throw err;
  }
  try {
    for (let at = 0; at < data.length; ) {
      const n = await fs.call('write', h, at, data.subarray(at, at + MAX_IO));
      if (n <= 0) throw new MproxyError('E_TOOL', `the remote wrote nothing to ${temp}`);
      at += n;
    }
    await fs.call('fsync', h);
    await fs.call('close', h);
    // The old file's mode, exactly (open applied the umask to it).
    if (mode !== undefined) await fs.call('chmod', t, mode);
    await fs.call('rename', t, Buffer.from(path));
  } catch (err) {
    await fs.call('close', h).catch(() => undefined);
    await fs.call('unlink', t).catch(() => undefined);
    throw err;
  }
  return { created: mode === undefined };
}

/**
 * Where a file tool may reach: a path a client gives is taken as a remote path inside one of the
 * roots (the profile's mounts), a local mount path is mapped to its remote one, and a relative
 * path starts at the workspace. Under [mcp] confine, what the path resolves to on the remote,
 * symlinks followed, must lie inside a root too: `../` and a link pointing out are refused,
 * naming the roots that are allowed.
 */
import { posix } from 'node:path';
import type { RemoteFs } from '../remote/host.js';
import { RemoteFsError } from '../remote/host.js';
import { MproxyError } from '../util/errors.js';
import { isWithin, normalizeAbsolute } from '../util/paths.js';

export interface Root {
  /** The directory on the remote (absolute, `~` already expanded). */
  readonly remote: string;
  /** Where this machine sees it (the mount's local path). */
  readonly local: string;
}

export interface Confinement {
  readonly roots: readonly Root[];
  /** The remote directory a relative path starts from: the first root. */
  readonly workspace: string;
  readonly confine: boolean;
}

export interface Resolved {
  /** The remote path as the client meant it (for messages and results). */
  readonly path: string;
  /** What it resolves to, symlinks followed: the path operations use. */
  readonly real: string;
}

const refused = (message: string): MproxyError => new MproxyError('E_TOOL', message);

/** The remote path `given` names, before any symlink is followed. */
export function remoteOf(c: Confinement, given: string): string {
  if (given === '') throw refused('the path is empty');
  if (given.includes('\0')) throw refused('the path contains a NUL byte');
  const absolute = normalizeAbsolute(posix.isAbsolute(given) ? given : posix.join(c.workspace, given));
  const local = c.roots.find((r) => r.local !== r.remote && isWithin(absolute, r.local) && !isWithin(absolute, r.remote));
  return local === undefined ? absolute : normalizeAbsolute(local.remote + absolute.slice(local.local.length));
}

function allowed(c: Confinement): string {
  return c.roots.map((r) => r.remote).join(', ');
}

/** realpath of `path`, or of its deepest existing ancestor with the rest appended (a file not made yet). */
async function realOf(fs: RemoteFs, path: string): Promise<string> {
  const rest: string[] = [];
  for (let head = path; ; head = posix.dirname(head)) {
    try {
      const real = Buffer.from(await fs.call('realpath', Buffer.from(head))).toString();
      return rest.length === 0 ? real : posix.join(real, ...rest.reverse());
    } catch (err) {
      if (!(err instanceof RemoteFsError) || (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') || head === '/') throw err;
      rest.push(posix.basename(head));
    }
  }
}

/**
 * `given` as a remote path a tool may use: inside a root, and (under confine) resolving inside
 * one. Outside them, an error naming the allowed roots.
 */
export async function confined(fs: RemoteFs, c: Confinement, given: string, realRoots: RealRoots): Promise<Resolved> {
  const path = remoteOf(c, given);
  if (!c.confine) return { path, real: path };
  if (!c.roots.some((r) => isWithin(path, r.remote))) throw refused(`${given} is outside the mounts; allowed: ${allowed(c)}`);
  const real = await realOf(fs, path);
  const roots = await realRoots.get(fs);
  if (!roots.some((r) => isWithin(real, r))) throw refused(`${given} leads to ${real}, outside the mounts; allowed: ${allowed(c)}`);
  return { path, real };
}

/** The roots' own real paths, asked once per connection (a root may itself sit behind a symlink). */
export class RealRoots {
  private known: Promise<string[]> | undefined;

  constructor(private readonly roots: readonly Root[]) {}

  get(fs: RemoteFs): Promise<string[]> {
    this.known ??= Promise.all(this.roots.map((r) => realOf(fs, r.remote))).catch((err: unknown) => {
      this.known = undefined;
      throw err;
    });
    return this.known;
  }
}

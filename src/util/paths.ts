/** Local path helpers: `~` expansion and containment, POSIX semantics. */
import { access, constants, stat } from 'node:fs/promises';
import { accessSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';

/** `~` and `~/x` against `home`; everything else unchanged. `~user` is not supported. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return posix.join(home, path.slice(2));
  return path;
}

/** True when `inner` is `outer` or lies below it (both absolute, normalised). */
export function isWithin(inner: string, outer: string): boolean {
  if (outer === '/') return true;
  return inner === outer || inner.startsWith(outer.endsWith('/') ? outer : `${outer}/`);
}

export function normalizeAbsolute(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * `path` with its symlinks resolved as far as it exists, the rest (not made yet) appended as
 * is: `/home/me/ws` on Fedora Silverblue is `/var/home/me/ws`, which is what getcwd() says.
 */
export function canonicalPath(path: string): string {
  const rest: string[] = [];
  for (let head = normalizeAbsolute(path); ; head = posix.dirname(head)) {
    try {
      return posix.join(realpathSync(head), ...rest.reverse());
    } catch {
      if (head === '/') return normalizeAbsolute(path);
      rest.push(posix.basename(head));
    }
  }
}

/** Where `name` would be in each of `dirs`, in order (relative entries skipped, as a shell would not trust them). */
function candidates(name: string, dirs: readonly string[]): string[] {
  return dirs.filter((d) => d.startsWith('/')).map((d) => posix.join(d, name));
}

/**
 * The first executable regular file `name` in `dirs`, as an absolute path.
 * Asynchronous on purpose: a PATH directory may lie in a mount this very process serves.
 */
export async function findExecutable(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates(name, dirs)) {
    try {
      if ((await stat(candidate)).isFile()) {
        await access(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // Not here, or not executable: the next directory.
    }
  }
  return undefined;
}

/** The same, synchronously: for checks made while this process serves no mount (`mproxy doctor`). */
export function findExecutableSync(name: string, dirs: readonly string[]): string | undefined {
  for (const candidate of candidates(name, dirs)) {
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // Not here, or not executable: the next directory.
    }
  }
  return undefined;
}

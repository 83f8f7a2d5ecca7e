/** Local path helpers: `~` expansion and containment, POSIX semantics. */
import { access, constants } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
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

/**
 * The first executable `name` in `dirs` (relative entries skipped), as an absolute path.
 * Asynchronous on purpose: a PATH directory may lie in a mount this very process serves.
 */
export async function findExecutable(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    if (!dir.startsWith('/')) continue;
    const candidate = posix.join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

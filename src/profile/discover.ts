/**
 * Finding profiles: the repository's `.mproxy/` directory (from the cwd up to the git root), a
 * profile NAME inside it, every profile file of a directory, and which files are bases that
 * other profiles extend (validated as partial).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MproxyError } from '../util/errors.js';
import { closest } from '../util/suggest.js';

/** The nearest `.mproxy/` directory at or above `cwd`, stopping at the git root. */
export function findProfileDir(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, '.mproxy');
    if (isDir(candidate)) return candidate;
    if (existsSync(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Every profile file in a directory, recursively; overlays (`*.local.toml`) belong to their profile. */
export function profilesIn(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...profilesIn(path));
    else if (entry.name.endsWith('.toml') && !entry.name.endsWith('.local.toml')) out.push(path);
  }
  return out;
}

/**
 * PROFILE as given on the command line: a path (has a slash or ends in .toml), else a NAME in
 * the repository's `.mproxy/`. No PROFILE: `.mproxy/default.toml`, or the only profile there.
 */
export function resolveProfileArg(arg: string | undefined, cwd: string): string {
  if (arg !== undefined && (arg.includes('/') || arg.endsWith('.toml'))) {
    const path = resolve(cwd, arg);
    if (!existsSync(path))
      throw new MproxyError('E_PROFILE_NOT_FOUND', `profile ${arg} does not exist`, {
        hint: 'check the path, or name a profile in .mproxy/ by its NAME',
      });
    return path;
  }
  const dir = findProfileDir(cwd);
  if (dir === undefined) {
    throw new MproxyError(
      'E_PROFILE_NOT_FOUND',
      arg === undefined ? 'no profile given and no .mproxy/ directory found' : `no .mproxy/ directory to find profile \`${arg}\` in`,
      {
        hint: [
          'looked in the current directory and its parents up to the git root',
          'pass a path to a profile file, or create .mproxy/NAME.toml in your repository',
        ],
      },
    );
  }
  const names = profilesIn(dir)
    .filter((p) => dirname(p) === dir)
    .map((p) => p.slice(dir.length + 1, -'.toml'.length));
  if (arg !== undefined) {
    const path = join(dir, `${arg}.toml`);
    if (existsSync(path)) return path;
    const guess = closest(arg, names);
    throw new MproxyError('E_PROFILE_NOT_FOUND', `no profile \`${arg}\` in ${dir}`, {
      hint:
        guess !== undefined
          ? `did you mean \`${guess}\`?`
          : names.length > 0
            ? `profiles there: ${names.join(', ')}`
            : 'that directory has no profiles',
    });
  }
  if (names.includes('default')) return join(dir, 'default.toml');
  if (names.length === 1 && names[0] !== undefined) return join(dir, `${names[0]}.toml`);
  throw new MproxyError(
    'E_PROFILE_NOT_FOUND',
    names.length === 0 ? `no profiles in ${dir}` : `several profiles in ${dir} and none is named default`,
    {
      hint: names.length === 0 ? 'create .mproxy/default.toml' : `name one: ${names.join(', ')}`,
    },
  );
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

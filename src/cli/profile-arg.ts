/**
 * A command's PROFILE argument, loaded: a name (.mproxy/NAME.toml, found upwards from the
 * working directory) or a path, and `local` — this machine as the target — even where the
 * project has no .mproxy/local.toml, from the profile embedded in mproxy. Its diagnostics
 * (warnings, or why it is invalid) are written to stderr.
 */
import { resolveProfileArg } from '../profile/discover.js';
import { locate as locateFinding } from '../profile/diagnostics.js';
import type { LoadResult } from '../profile/load.js';
import { isMproxyError, MproxyError } from '../util/errors.js';
import { packagePath } from '../util/package-path.js';
import { parseSetFlags } from './args.js';
import type { CommandIO } from './command.js';
import { formatDiagnostic } from './output.js';

/** The embedded profile `local`. */
export const EMBEDDED_LOCAL = packagePath('profiles/local.toml');

function locate(arg: string | undefined, cwd: string): string {
  try {
    return resolveProfileArg(arg, cwd);
  } catch (err) {
    if (arg === 'local' && isMproxyError(err) && err.code === 'E_PROFILE_NOT_FOUND') return EMBEDDED_LOCAL;
    throw err;
  }
}

/** `set`: the --set KEY.PATH=VALUE flags given. The loader (and its schema) is imported only now: commands start fast. */
export async function loadProfileArg(arg: string | undefined, io: CommandIO, set?: readonly (string | boolean)[]): Promise<LoadResult> {
  const file = locate(arg, io.cwd);
  const { loadProfile } = await import('../profile/load.js');
  const loaded = loadProfile(file, {
    cwd: io.cwd,
    env: io.env,
    home: io.home,
    flags: parseSetFlags(set),
    // The embedded profile's relative paths (a recording's) start here, not in mproxy's install.
    ...(file === EMBEDDED_LOCAL ? { projectDir: io.cwd } : {}),
  });
  for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  return loaded;
}

/**
 * Runs a command's work on a loaded profile; an error that names a profile key (a port in use
 * for forwards[0].local) is given the file and line of that key, as profile errors are.
 */
export async function locatingErrors<T>(loaded: LoadResult, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof MproxyError && err.pointer !== undefined && err.location === undefined) {
      const d = locateFinding({ pointer: err.pointer, message: err.message }, loaded.origins, loaded.file);
      err.location = { at: `${d.file}:${d.line}:${d.column}`, path: d.path };
    }
    throw err;
  }
}

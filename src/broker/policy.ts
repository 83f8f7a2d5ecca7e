/**
 * Where one intercepted command runs, and as what: the profile's [sandbox] lists decide by the
 * command's resolved path (a `#!` script by its interpreter's, an env shebang by its target's);
 * a remote command's path and cwd are mapped through the mounts.
 */
import { realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Profile } from '../profile/schema.js';
import { canonicalPath, findExecutable, isWithin, normalizeAbsolute } from '../util/paths.js';
import { compileCommandPattern } from '../util/patterns.js';
import type { ShimRequest } from './wire.js';

/** A mount as the broker sees it: a local directory that is a remote one. */
export interface PathMap {
  readonly local: string;
  readonly remote: string;
}

export type Decision =
  | { readonly where: 'local'; readonly path: string }
  | { readonly where: 'remote'; readonly argv: readonly string[]; readonly cwd: string };

export interface PolicyOptions {
  readonly sandbox: Profile['sandbox'];
  readonly mounts: readonly PathMap[];
  /** Where the remote commands absent here have their stubs: always remote. */
  readonly stubDir: string;
  /** The remote directory for a cwd outside every mount: the workspace. */
  readonly workspace: string;
}

function matcher(patterns: readonly string[] | undefined): (path: string) => boolean {
  const tests = (patterns ?? []).map((p) => {
    const compiled = compileCommandPattern(p);
    return compiled.ok ? compiled.value : () => false;
  });
  return (path) => tests.some((t) => t(path));
}

/**
 * The mounts as given and, where a local path runs through a symlink, as the kernel names it
 * too (getcwd() and the tracer see resolved paths): both map to the same remote directory.
 */
export function withCanonical(mounts: readonly PathMap[]): PathMap[] {
  return mounts.flatMap((m) => {
    const canonical = canonicalPath(m.local);
    return canonical === normalizeAbsolute(m.local) ? [m] : [m, { ...m, local: canonical }];
  });
}

/** The remote path of a local one inside a mount (`..` resolved first); undefined outside every mount. */
export function toRemote(path: string, mounts: readonly PathMap[]): string | undefined {
  path = normalizeAbsolute(path);
  let best: PathMap | undefined;
  for (const m of mounts) {
    if (isWithin(path, m.local) && (best === undefined || m.local.length > best.local.length)) best = m;
  }
  if (best === undefined) return undefined;
  const rest = path.slice(best.local.length).replace(/^\/+/, '');
  return rest === '' ? best.remote : `${best.remote.replace(/\/+$/, '')}/${rest}`;
}

/** The program a `#!` line names: its interpreter, or what `env` is asked to run. */
export function shebangTarget(line: string): string | undefined {
  const words = line.slice(2).trim().split(/\s+/).filter(Boolean);
  const [interp, ...args] = words;
  if (interp === undefined) return undefined;
  if (basename(interp) !== 'env') return interp;
  // `env -S prog args`, `env VAR=x prog`: the first word that is neither an option nor a setting.
  return args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? interp;
}

const SELF_EXE = /^\/proc\/(self|\d+)\/exe$/;

export function commandPolicy(options: PolicyOptions): (req: ShimRequest) => Promise<Decision> {
  const localByDefault = options.sandbox.default === 'local';
  const patterns = localByDefault ? options.sandbox.remote_commands : options.sandbox.local_commands;
  const listed = matcher(patterns);
  // Only an absolute or /regex/ pattern can tell /bin/x from /usr/bin/x: else no realpath per exec.
  const byFullPath = patterns.some((p) => p.startsWith('/'));
  const isLocal = (path: string): boolean => (localByDefault ? !listed(path) : listed(path));
  const inStubs = (path: string): boolean => path.startsWith(`${options.stubDir}/`);
  return async (req) => {
    const searchDirs = (req.env['PATH'] ?? '').split(':').filter((d) => d !== options.stubDir);
    // A multi-call binary re-exec'ing itself (busybox runs applets as /proc/self/exe) names
    // the command in argv[0], as a PATH stub does.
    let path = SELF_EXE.test(req.path) ? '' : req.path;
    if (path === '') {
      // Run as a PATH stub: argv[0] names the command.
      const name = basename(req.argv[0] ?? '');
      path = (await findExecutable(name, searchDirs)) ?? join(options.stubDir, name);
    }
    const remoteOnly = inStubs(path);
    let decideBy = path;
    if (!remoteOnly && req.shebang !== '') {
      const target = shebangTarget(req.shebang);
      if (target !== undefined) decideBy = target.startsWith('/') ? target : ((await findExecutable(target, searchDirs)) ?? target);
    }
    // /bin/true and /usr/bin/true are one file (merged /usr): an absolute pattern may name either.
    const local =
      !remoteOnly &&
      (isLocal(decideBy) || (byFullPath && decideBy.startsWith('/') && isLocal(await realpath(decideBy).catch(() => decideBy))));
    if (local) return { where: 'local', path };
    const mapped = remoteOnly ? undefined : toRemote(path, options.mounts);
    // Outside the mounts a command is found by name on the remote PATH, as `ssh host NAME` would.
    const program = mapped ?? basename(path);
    const cwd = toRemote(req.cwd, options.mounts) ?? options.workspace;
    return { where: 'remote', argv: [program, ...req.argv.slice(1)], cwd };
  };
}

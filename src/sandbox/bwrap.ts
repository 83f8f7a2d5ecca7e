/**
 * The bubblewrap command line of a session. The sandbox's root is a tmpfs into which this
 * machine's top-level entries are bound back (devices, /proc and all), so the program sees the
 * host as it expects; each mount is then bound at its local path. A mount point missing on the
 * host is made inside the sandbox only: its nearest existing directory gets a tmpfs with that
 * directory's entries bound back, so nothing is ever created on the host. (New files made
 * directly in that one directory, beside the entries, live in the tmpfs: they vanish with the
 * session.)
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface SandboxBind {
  /** Where FUSE serves the mount on the host. */
  readonly source: string;
  /** Where the program sees it. */
  readonly target: string;
}

export interface SandboxSpec {
  readonly binds: readonly SandboxBind[];
  readonly chdir: string;
  readonly command: readonly string[];
}

/** What the layout needs to know of the host's files (tests give a fake one). */
export interface HostView {
  kind(path: string): 'dir' | 'link' | 'other' | 'missing';
  mode(path: string): number;
  entries(path: string): string[];
  linkTarget(path: string): string;
  realpath(path: string): string;
}

export const realHost: HostView = {
  kind(path) {
    try {
      const st = lstatSync(path);
      return st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
    } catch {
      return 'missing';
    }
  },
  mode: (path) => lstatSync(path).mode & 0o7777,
  entries: (path) => readdirSync(path).sort(),
  linkTarget: (path) => readlinkSync(path),
  realpath: (path) => realpathSync(path),
};

/** A target with its existing part resolved (symlinks), and the directories missing below. */
function place(target: string, host: HostView): { target: string; existing: string; missing: string[] } {
  const missing: string[] = [];
  let at = target;
  while (at !== '/' && host.kind(at) === 'missing') {
    missing.unshift(at.slice(at.lastIndexOf('/') + 1));
    at = dirname(at);
  }
  const existing = host.realpath(at);
  return { target: missing.length === 0 ? existing : join(existing, ...missing), existing, missing };
}

export function bwrapArgs(spec: SandboxSpec, host: HostView = realHost): string[] {
  const placed = spec.binds.map((b) => ({ source: b.source, ...place(b.target, host) }));
  const args: string[] = [];
  const bindEntries = (dir: string): void => {
    for (const name of host.entries(dir)) {
      const path = join(dir, name);
      const kind = host.kind(path);
      if (kind === 'link') args.push('--symlink', host.linkTarget(path), path);
      else if (kind !== 'missing') args.push('--dev-bind', path, path);
    }
  };
  // The root is bwrap's tmpfs: the host's top-level entries come back one by one.
  bindEntries('/');
  // A missing mount point's nearest existing directory becomes a tmpfs holding its own entries
  // again, and the mount point's directories are made there.
  const depth = (path: string): number => (path === '/' ? 0 : path.split('/').length);
  const parents = [...new Set(placed.filter((p) => p.missing.length > 0 && p.existing !== '/').map((p) => p.existing))].sort(
    (a, b) => depth(a) - depth(b),
  );
  for (const dir of parents) {
    args.push('--perms', host.mode(dir).toString(8).padStart(4, '0'), '--tmpfs', dir);
    bindEntries(dir);
  }
  const made = new Set<string>();
  for (const p of placed) {
    for (let i = 1; i <= p.missing.length; i++) made.add(join(p.existing, ...p.missing.slice(0, i)));
  }
  for (const dir of made) args.push('--dir', dir);
  for (const p of [...placed].sort((a, b) => depth(a.target) - depth(b.target))) args.push('--bind', p.source, p.target);
  return [...args, '--die-with-parent', '--chdir', spec.chdir, '--', ...spec.command];
}

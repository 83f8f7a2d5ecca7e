/**
 * PATH enumeration for the agentless tier: regular executable files (symlinks followed), the
 * first of each name winning. One sh script lists every directory at once; on a busybox image
 * every command is a symlink, and following each over the file operations costs an exec apiece
 * (~50 ms on Docker: ~15 s for one PATH). A remote whose tools cannot run the script is listed
 * over the file operations instead.
 */
import type { WireStat } from '../../protocol/file-ops.js';
import type { PathEntry } from '../../protocol/frames.js';
import type { ScriptResult } from '../../transport/transport.js';
import type { RemoteFs } from '../host.js';
import { shQuote } from './script.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** Symlinks followed at once per directory on the file-operation path. */
const STATS_IN_FLIGHT = 16;

/**
 * For each directory that has executables: `DIR\0COUNT\0NAME\0…` then one `MODE(hex) SIZE MTIME`
 * line per name, in order (stat -L: what the name runs). Each directory in a subshell of its own,
 * so its cd and its argument list do not leak into the next. When a file vanishes between the
 * listing and the stat, the stats are taken one by one and the gone one is `-`. Exit 3: this
 * remote's stat cannot do it.
 */
export function pathScript(dirs: readonly string[]): string {
  const fmt = "'%f %s %Y'";
  return [
    // A stat without -L -c (not GNU or busybox) would drop every name: the caller falls back.
    `stat -L -c ${fmt} / >/dev/null 2>&1 || exit 3`,
    'list() (',
    '  cd -- "$1" 2>/dev/null || exit 0',
    '  d=$1; set -- * .[!.]* ..?*',
    '  for f; do shift; if [ -f "$f" ] && [ -x "$f" ]; then set -- "$@" "$f"; fi; done',
    '  [ $# -eq 0 ] && exit 0',
    '  printf \'%s\\000\' "$d" "$#" "$@"',
    `  if s=$(stat -L -c ${fmt} -- "$@" 2>/dev/null); then printf '%s\\n' "$s"; ` +
      `else for f; do stat -L -c ${fmt} -- "$f" 2>/dev/null || echo -; done; fi`,
    ')',
    ...dirs.map((d) => `list ${shQuote(d)}`),
    '',
  ].join('\n');
}

/** Cuts the next `end`-terminated piece off `buf` at `at`; undefined when the listing is cut short. */
function piece(buf: Buffer, at: number, end: number): { text: string; next: number } | undefined {
  const stop = buf.indexOf(end, at);
  return stop < 0 ? undefined : { text: buf.subarray(at, stop).toString(), next: stop + 1 };
}

/** The script's output as entries, the first of each name winning; undefined when it is not that listing. */
export function parsePathListing(out: Buffer): PathEntry[] | undefined {
  const seen = new Set<string>();
  const entries: PathEntry[] = [];
  let at = 0;
  while (at < out.length) {
    const dir = piece(out, at, 0);
    const count = dir && piece(out, dir.next, 0);
    if (dir === undefined || count === undefined || !/^\d+$/.test(count.text)) return undefined;
    at = count.next;
    const names: string[] = [];
    for (let i = 0; i < Number(count.text); i++) {
      const name = piece(out, at, 0);
      if (name === undefined) return undefined;
      names.push(name.text);
      at = name.next;
    }
    for (const name of names) {
      const line = piece(out, at, 0x0a);
      if (line === undefined) return undefined;
      at = line.next;
      const m = /^([0-9a-f]+) (\d+) (\d+)$/.exec(line.text);
      if (m === null) continue; // gone meanwhile
      const mode = Number.parseInt(m[1] ?? '', 16);
      if (seen.has(name) || (mode & S_IFMT) !== S_IFREG || (mode & 0o111) === 0) continue;
      seen.add(name);
      entries.push({ name, path: `${dir.text}/${name}`, mode, size: Number(m[2]), mtime: Number(m[3]) * 1000 });
    }
  }
  return entries;
}

/** The listing by one script, or over the file operations where the script cannot run there. */
export async function queryPath(
  run: (script: string) => Promise<ScriptResult>,
  fs: RemoteFs,
  dirs: readonly string[],
): Promise<PathEntry[]> {
  const result = await run(pathScript(dirs)).catch(() => undefined);
  const listed = result?.code === 0 ? parsePathListing(result.stdout) : undefined;
  return listed ?? listExecutables(fs, dirs);
}

/** The same listing over the file operations: a readdir per directory, a stat per symlink. */
export async function listExecutables(fs: RemoteFs, dirs: readonly string[]): Promise<PathEntry[]> {
  const seen = new Set<string>();
  const out: PathEntry[] = [];
  for (const dir of dirs) {
    const entries = await fs.call('readdir', Buffer.from(dir)).catch(() => []);
    const named = entries.map((e) => ({ name: Buffer.from(e.name).toString(), st: e.st as WireStat | undefined }));
    const links = named.filter((e) => e.st !== undefined && (e.st.mode & S_IFMT) === S_IFLNK);
    for (let at = 0; at < links.length; at += STATS_IN_FLIGHT) {
      await Promise.all(
        links.slice(at, at + STATS_IN_FLIGHT).map(async (e) => {
          e.st = await fs.call('stat', Buffer.from(`${dir}/${e.name}`)).catch(() => undefined);
        }),
      );
    }
    for (const { name, st } of named) {
      if (st === undefined || seen.has(name) || (st.mode & S_IFMT) !== S_IFREG || (st.mode & 0o111) === 0) continue;
      seen.add(name);
      out.push({ name, path: `${dir}/${name}`, mode: st.mode, size: st.size, mtime: st.mtimeMs });
    }
  }
  return out;
}

/**
 * Redirections to and from the mount, opened where the file lives: when a remote command's
 * stdin, stdout, stderr or an extra fd is a file of a mount (`wc -l < f`, `make > log 2>&1`,
 * `cmd >> f`, `3<> f`), the agent opens the remote file itself with the same access mode, so the
 * bytes never come here and go back. The shim lists such fds (native/shim/files.c); one is taken
 * only when nothing here could see the difference:
 *   - no other process of the session holds the file open (its writes or position would interleave);
 *   - its position is 0, or it appends (the remote open starts at 0, or at the end);
 *   - it is inside a mount, and every fd sharing its open file description goes along;
 *   - it is not stdin, stdout or stderr of a command on a terminal (the remote pty is those).
 * Once the command has ended, what it wrote is dropped from the mount's caches before the shell
 * goes on (a `cat log` right after sees it), and each fd's position is set to where the remote
 * left it. Every other fd is carried through this machine, as before.
 */
import { basename } from 'node:path';
import type { FileOpen } from '../protocol/frames.js';
import type { FileFd } from './wire.js';

/** The mounts as the broker needs them for files. */
export interface MountFiles {
  /** The remote path of a local file inside a mount; undefined outside every mount. */
  remotePath(local: string): string | undefined;
  /** The remote changed this file (a command wrote it): resolves once what the mount holds of it is dropped. */
  changed(local: string): Promise<void>;
}

export interface FilePlan {
  /** What the agent opens, one entry per open file description. */
  readonly opens: readonly FileOpen[];
  /** The local path of each entry of `opens`. */
  readonly locals: readonly string[];
  /** Every fd the remote opened: the shim neither reads nor carries them. */
  readonly taken: readonly number[];
}

const NONE: FilePlan = { opens: [], locals: [], taken: [] };

function refusal(f: FileFd, files: MountFiles, terminal: boolean): string | undefined {
  if (terminal && f.fd <= 2) return 'the command runs on a terminal there';
  if (!f.alone) return 'another process holds it open here';
  if (f.offset !== 0 && !f.append) return `its position is ${f.offset}, not the start`;
  if (files.remotePath(f.path) === undefined) return 'it is outside the mounts';
  return undefined;
}

/**
 * Which of `fds` the remote opens itself (`terminal`: the command gets a remote pty); each choice
 * said through `say` (--verbose).
 */
export function planFiles(
  fds: readonly FileFd[],
  files: MountFiles,
  who: string,
  terminal: boolean,
  say?: (message: string) => void,
): FilePlan {
  if (fds.length === 0) return NONE;
  const opens: { fds: number[]; path: string; mode: FileOpen['mode']; append?: true }[] = [];
  const locals: string[] = [];
  const entryOf = new Map<number, number>(); // fd → index in opens
  const refused = new Set<number>();
  for (const f of fds) {
    const shared = f.same >= 0 ? entryOf.get(f.same) : undefined;
    if (shared !== undefined) {
      opens[shared]?.fds.push(f.fd);
      entryOf.set(f.fd, shared);
      continue;
    }
    const why = f.same >= 0 && refused.has(f.same) ? `it shares fd ${f.same}'s open file, which stays here` : refusal(f, files, terminal);
    if (why !== undefined) {
      refused.add(f.fd);
      say?.(`fd ${f.fd} of ${who} (${f.path}) carried here: ${why}`);
      continue;
    }
    entryOf.set(f.fd, opens.length);
    opens.push({ fds: [f.fd], path: files.remotePath(f.path) ?? '', mode: f.mode, ...(f.append ? { append: true as const } : {}) });
    locals.push(f.path);
  }
  for (const [i, o] of opens.entries())
    say?.(
      `${basename(locals[i] ?? '')} opened on the remote for ${who} (fd ${o.fds.join(', ')}, ${o.mode}${o.append ? ', appending' : ''})`,
    );
  return { opens, locals, taken: [...entryOf.keys()] };
}

/**
 * After the command: files it could write are dropped from the mount's caches; the positions to
 * set here, per fd (an appending fd needs none).
 */
export async function settleFiles(
  plan: FilePlan,
  positions: readonly number[] | undefined,
  files: MountFiles,
): Promise<{ fd: number; pos: number }[]> {
  const seeks: { fd: number; pos: number }[] = [];
  const dropped: Promise<void>[] = [];
  for (const [i, o] of plan.opens.entries()) {
    if (o.mode !== 'r') dropped.push(files.changed(plan.locals[i] ?? ''));
    const pos = positions?.[i] ?? -1;
    if (pos >= 0 && o.append !== true) for (const fd of o.fds) seeks.push({ fd, pos });
  }
  await Promise.all(dropped);
  return seeks;
}

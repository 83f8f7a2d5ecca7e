/**
 * A session's private directory (0700): the broker's socket, the session token (0600), the
 * shim (which finds the rest beside itself), the tracer's pending/ hand-offs, the PATH stubs
 * and the mount points FUSE serves before bwrap binds them where the program expects them.
 * Removed whole at the end: only the directory this made, never a path derived from another.
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MproxyError, messageOf } from '../util/errors.js';
import { isWithin } from '../util/paths.js';

export interface SessionDir {
  readonly root: string;
  readonly socket: string;
  readonly token: Buffer;
  readonly shim: string;
  readonly pending: string;
  /** PATH stubs: symlinks to the shim named after commands. */
  readonly stubs: string;
  /** Where mount N is served by FUSE (bound into the sandbox at its local path). */
  mountPoint(index: number): string;
  remove(): void;
}

const PREFIX = 'mproxy-';

/**
 * The first writable candidate outside every mount point (the sandbox binds the mounts over
 * their local paths, which would hide the broker's socket).
 */
function baseDir(env: NodeJS.ProcessEnv, avoid: readonly string[]): string {
  const candidates = [env['XDG_RUNTIME_DIR'], tmpdir(), '/dev/shm', '/var/tmp', '/tmp'];
  for (const dir of candidates) {
    if (dir === undefined || !dir.startsWith('/') || avoid.some((m) => isWithin(dir, m))) continue;
    try {
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      // Not writable or gone: try the next.
    }
  }
  throw new MproxyError('E_SANDBOX', 'no writable directory for the session outside the mounts', {
    hint: 'set TMPDIR to a writable directory that no [[mounts]] local path covers',
  });
}

/** Each file this made, by name; mount points by rmdir only: a mount still there stays untouched. */
function removeSession(root: string): void {
  const quiet = (f: () => void): void => {
    try {
      f();
    } catch {
      // Already gone, or a mount point still busy: left in place rather than recursed into.
    }
  };
  for (const name of ['token', 'mproxy-shim', 'broker.sock']) quiet(() => unlinkSync(join(root, name)));
  for (const sub of ['pending', 'bin']) {
    quiet(() => {
      for (const entry of readdirSync(join(root, sub))) quiet(() => unlinkSync(join(root, sub, entry)));
    });
    quiet(() => rmdirSync(join(root, sub)));
  }
  quiet(() => {
    for (const entry of readdirSync(join(root, 'mnt'))) quiet(() => rmdirSync(join(root, 'mnt', entry)));
  });
  quiet(() => rmdirSync(join(root, 'mnt')));
  quiet(() => rmdirSync(root));
}

/** `avoid`: the mounts' local paths. */
export function createSessionDir(shimBinary: string, env: NodeJS.ProcessEnv, avoid: readonly string[]): SessionDir {
  const base = baseDir(env, avoid);
  let root: string;
  try {
    root = mkdtempSync(join(base, PREFIX)); // 0700
  } catch (err) {
    throw new MproxyError('E_SANDBOX', `cannot make the session directory: ${messageOf(err)}`, {
      hint: 'check that $XDG_RUNTIME_DIR or $TMPDIR is writable',
    });
  }
  const token = randomBytes(32);
  const dir: SessionDir = {
    root,
    socket: join(root, 'broker.sock'),
    token,
    shim: join(root, 'mproxy-shim'),
    pending: join(root, 'pending'),
    stubs: join(root, 'bin'),
    mountPoint: (index) => join(root, 'mnt', String(index)),
    remove: () => removeSession(root),
  };
  try {
    writeFileSync(join(root, 'token'), token.toString('hex'), { mode: 0o600 });
    mkdirSync(dir.pending, { mode: 0o700 });
    mkdirSync(dir.stubs, { mode: 0o700 });
    mkdirSync(join(root, 'mnt'), { mode: 0o700 });
    copyFileSync(shimBinary, dir.shim);
    chmodSync(dir.shim, 0o700);
  } catch (err) {
    dir.remove();
    throw new MproxyError('E_SANDBOX', `cannot prepare the session directory ${root}: ${messageOf(err)}`);
  }
  return dir;
}

/**
 * Where a live session listens: one Unix socket per profile file, in a directory only this user
 * can enter — `$XDG_RUNTIME_DIR/mproxy/`, else `/tmp/mproxy-UID/` — named by the FNV-1a 64 hash
 * of the profile file's real path. native/client/socket.c computes the same name: keep the two
 * in step (test/runner/live-session.test.ts checks that they meet).
 */
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { MproxyError } from './errors.js';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/** FNV-1a, 64 bits, over the UTF-8 bytes of `text`, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK;
  return h.toString(16).padStart(16, '0');
}

/** The directory of every live session of this user. */
export function liveSocketDir(env: NodeJS.ProcessEnv, uid: number = process.getuid?.() ?? 0): string {
  const runtime = env['XDG_RUNTIME_DIR'];
  return runtime?.startsWith('/') === true ? join(runtime, 'mproxy') : `/tmp/mproxy-${uid}`;
}

export interface LiveSocket {
  /** The profile file's real path: what a client must name to be served. */
  readonly profile: string;
  readonly path: string;
}

/**
 * The socket of `profileFile`'s live session, its directory made (0700) if missing. A directory
 * that is a link, not ours, or open to others is refused: a client would hand its environment
 * to whoever listens there.
 */
export function liveSocket(profileFile: string, env: NodeJS.ProcessEnv): LiveSocket {
  const profile = realpathSync(profileFile);
  const dir = liveSocketDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0)
    throw new MproxyError('E_LISTEN', `${dir} is not a private directory of this user`, {
      hint: `remove it (it must be a directory of uid ${uid} with mode 0700), or set XDG_RUNTIME_DIR`,
    });
  return { profile, path: join(dir, `${fnv1a64(profile)}.sock`) };
}

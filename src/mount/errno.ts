/**
 * What a FUSE callback returns on failure: the negated errno of the remote's error name, or EIO
 * for anything that is not a remote file error (a lost connection, a missed deadline).
 */
import { constants } from 'node:os';
import { RemoteFsError } from '../remote/host.js';
import { withTimeout } from '../util/deadline.js';
import { Op } from './native.js';

const ERRNO = constants.errno as Readonly<Record<string, number>>;

export function negErrno(err: unknown): number {
  // A missed deadline is EIO to the program, as a dead disk would be.
  if (err instanceof RemoteFsError) return err.code === 'ETIMEDOUT' ? -(ERRNO['EIO'] ?? 5) : -(ERRNO[err.code] ?? ERRNO['EIO'] ?? 5);
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('E') && ERRNO[code] !== undefined) return -(ERRNO[code] ?? 5);
  return -(ERRNO['EIO'] ?? 5);
}

export const E = {
  ENOENT: -(ERRNO['ENOENT'] ?? 2),
  EIO: -(ERRNO['EIO'] ?? 5),
  EBADF: -(ERRNO['EBADF'] ?? 9),
  EROFS: -(ERRNO['EROFS'] ?? 30),
  ENOSYS: -(ERRNO['ENOSYS'] ?? 38),
  EACCES: -(ERRNO['EACCES'] ?? 13),
  ESTALE: -(ERRNO['ESTALE'] ?? 116),
} as const;

/**
 * The errno a failed request is answered with. On a node whose file is gone on the remote
 * (removed there, the change notice still on its way), GETATTR and SETATTR say ESTALE, not
 * ENOENT: the kernel then walks the path again asking us (LOOKUP_REVAL) and finds it gone — so
 * `rm F` run there and then `> F` here creates F instead of failing, and stat says ENOENT.
 */
export function requestErrno(op: number, err: unknown): number {
  const errno = negErrno(err);
  return errno === E.ENOENT && (op === Op.Getattr || op === Op.Setattr) ? E.ESTALE : errno;
}

/** EIO because the remote did not answer in time (not because it said EIO). */
export class MissedDeadline extends RemoteFsError {}

/** `promise`, or EIO once `ms` have passed: no FUSE call ever hangs. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(promise, ms, () => new MissedDeadline('EIO', `no answer within ${ms / 1000}s`, what));
}

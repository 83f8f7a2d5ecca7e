/**
 * Deadlines for remote operations: every call that waits on another machine ends by one, so
 * nothing mproxy does can hang on a remote that stopped answering.
 */

/**
 * `promise`, or the error `expired()` makes once `ms` have passed. The timer is cleared when the
 * promise settles and never keeps the process alive; the promise itself is not cancelled
 * (`onExpire` may, e.g. by closing a channel).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, expired: () => Error, onExpire?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire?.();
      reject(expired());
    }, ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

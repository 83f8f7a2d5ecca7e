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

/** How long a short remote script may take: `baseMs`, plus time for its input at a slow link's 64 KiB/s. */
export function scriptDeadline(baseMs: number, input?: Uint8Array): number {
  return baseMs + Math.ceil(((input?.length ?? 0) / 65536) * 1000);
}

/**
 * A deadline that stops counting while paused: the time a person takes to answer a prompt (a
 * key's passphrase) is not the remote's to spend.
 */
export class PausableDeadline {
  private timer: NodeJS.Timeout | undefined;
  private remaining: number;
  private startedAt = 0;
  private paused = 0;
  private done = false;

  constructor(
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.remaining = ms;
    this.run();
  }

  pause(): void {
    if (this.done || this.paused++ > 0) return;
    clearTimeout(this.timer);
    this.remaining -= Date.now() - this.startedAt;
  }

  resume(): void {
    if (this.done || this.paused === 0 || --this.paused > 0) return;
    this.run();
  }

  stop(): void {
    this.done = true;
    clearTimeout(this.timer);
  }

  private run(): void {
    this.startedAt = Date.now();
    this.timer = setTimeout(
      () => {
        this.done = true;
        this.onExpire();
      },
      Math.max(0, this.remaining),
    );
    this.timer.unref();
  }
}

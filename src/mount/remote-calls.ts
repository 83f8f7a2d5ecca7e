/**
 * The mount's remote file operations, each under the deadline. While the remote has left a call
 * unanswered past the deadline, or a request's deadline passed with calls unanswered, new calls
 * fail at once (EIO) until it answers one: the kernel retries a failed read page by page, and
 * each retry must not wait the whole deadline again.
 */
import type { FileOpArgs, FileOpName, FileOpResult } from '../protocol/file-ops.js';
import { RemoteFsError, type RemoteFs } from '../remote/host.js';
import { MissedDeadline, withDeadline } from './errno.js';

export class RemoteCalls {
  /** Calls awaiting an answer, and when the remote last answered one (or the first was sent). */
  private inFlight = 0;
  private progressAt = 0;
  /** A deadline passed while calls were unanswered: the remote is stalled until it answers one. */
  private stalled = false;

  constructor(
    private readonly fs: RemoteFs,
    private readonly opTimeoutMs: number,
  ) {}

  call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> {
    const now = Date.now();
    if (this.inFlight > 0 && (this.stalled || now - this.progressAt > this.opTimeoutMs)) {
      return Promise.reject(
        new RemoteFsError('EIO', `the remote has not answered for ${((now - this.progressAt) / 1000).toFixed(1)}s`, op),
      );
    }
    if (this.inFlight++ === 0) this.progressAt = now;
    const answered = (): void => {
      this.inFlight--;
      this.progressAt = Date.now();
      this.stalled = false;
    };
    const pending = this.fs.call(op, ...args);
    pending.then(answered, answered);
    return withDeadline(pending, this.opTimeoutMs, op).catch((err: unknown) => {
      if (err instanceof MissedDeadline) this.expired();
      throw err;
    });
  }

  /** A deadline passed unanswered (a call's, or a kernel request's). */
  expired(): void {
    if (this.inFlight > 0) this.stalled = true;
  }
}

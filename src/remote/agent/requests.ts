/**
 * Requests to the agent awaiting their answer, by id: each has a deadline (ETIMEDOUT when it
 * passes), is answered once, and fails at once with the connection's error when it is lost.
 */
import { RemoteFsError } from '../host.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  readonly timer: NodeJS.Timeout;
  readonly what: string;
  /** A read: its bytes may stay in the pieces they arrived in. */
  readonly pieces: boolean;
}

export class PendingRequests {
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly timeoutMs: number,
    private readonly description: string,
  ) {}

  /** Awaits the answer to request `id`, which `send` sends. */
  add(id: number, what: string, pieces: boolean, send: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RemoteFsError('ETIMEDOUT', `no answer from ${this.description} within ${this.timeoutMs / 1000}s`, what));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, what, pieces });
      send();
    });
  }

  /** What request `id` asked, and whether its bytes may stay in pieces; undefined once answered. */
  get(id: number): { readonly what: string; readonly pieces: boolean } | undefined {
    return this.pending.get(id);
  }

  settle(id: number, value: unknown, error?: Error): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error !== undefined) p.reject(error);
    else p.resolve(value);
  }

  failAll(error: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.pending.delete(id);
    }
  }
}

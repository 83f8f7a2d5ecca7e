/**
 * The pipe shortcut: in a local pipeline of two remote commands (`a | b`, `a |& b`), the two
 * are joined by a pipe on the remote, so the bytes between them never come here and go back.
 * Each command's shim says which of its stdin, stdout and stderr are local pipes, by inode, and
 * whether its end may be joined (native/shim/pipes.c: it holds that end alone, and someone
 * holds the other). The broker matches a write end with the read end of the same pipe from
 * another command of the session. The first to come waits for its partner, at most WAIT_MS (the
 * two shims of a pipeline start within a millisecond or two of each other); a partner that runs
 * here, cannot be joined, or does not come leaves both ends carried through this machine, as
 * every fd was before.
 */
import type { PipeEnd } from './wire.js';

/** How long the first end of a pipe waits for the second. */
export const PAIR_WAIT_MS = 30;
/** How long a declined end is remembered for a partner that comes after it (inodes are reused). */
const DECLINE_KEPT_MS = 2000;

export type PairOutcome =
  | { readonly joined: true; readonly pipe: string; readonly partner: string }
  | { readonly joined: false; readonly why: string };

interface Waiting {
  readonly end: 'r' | 'w';
  readonly who: string;
  readonly resolve: (outcome: PairOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

export class PipePairs {
  /** First ends waiting for their partner, by pipe inode. */
  private readonly waiting = new Map<string, Waiting>();
  /** Pipes whose other end was declined before anyone waited on them (its shim was quicker). */
  private readonly declined = new Map<string, { readonly why: string; readonly until: number }>();
  private made = 0;

  constructor(private readonly waitMs = PAIR_WAIT_MS) {}

  /**
   * The ends of `pipes` of a remote command (`who`, for messages), each joined with its
   * partner or not; resolves once every one is decided. A `2>&1 |` pipe (fds 1 and 2 on one
   * inode) is one end.
   */
  async offer(pipes: readonly PipeEnd[], who: string): Promise<Map<string, PairOutcome>> {
    const byIno = new Map<string, PipeEnd>();
    for (const p of pipes) if (!byIno.has(p.ino)) byIno.set(p.ino, p);
    const outcomes = await Promise.all(
      [...byIno.values()].map(async (p): Promise<[string, PairOutcome]> => {
        if (!p.joinable) {
          this.decline(p.ino, `${who} shares that pipe with another process`);
          return [p.ino, { joined: false, why: 'another process holds one of its ends here' }];
        }
        return [p.ino, await this.match(p, who)];
      }),
    );
    return new Map(outcomes);
  }

  /** `who` will not run remotely (or cannot be joined): whoever waits on one of its pipes stops waiting. */
  declineAll(pipes: readonly PipeEnd[], why: string): void {
    for (const p of pipes) this.decline(p.ino, why);
  }

  private decline(ino: string, why: string): void {
    const other = this.waiting.get(ino);
    if (other === undefined) {
      for (const [k, d] of this.declined) if (d.until < Date.now()) this.declined.delete(k);
      this.declined.set(ino, { why, until: Date.now() + DECLINE_KEPT_MS });
      return;
    }
    this.waiting.delete(ino);
    clearTimeout(other.timer);
    other.resolve({ joined: false, why });
  }

  private match(p: PipeEnd, who: string): Promise<PairOutcome> {
    const said = this.declined.get(p.ino);
    if (said !== undefined && said.until >= Date.now()) {
      this.declined.delete(p.ino);
      return Promise.resolve({ joined: false, why: said.why });
    }
    const other = this.waiting.get(p.ino);
    if (other !== undefined && other.end !== p.end) {
      this.waiting.delete(p.ino);
      clearTimeout(other.timer);
      const pipe = `pipe-${++this.made}`;
      other.resolve({ joined: true, pipe, partner: who });
      return Promise.resolve({ joined: true, pipe, partner: other.who });
    }
    if (other !== undefined) return Promise.resolve({ joined: false, why: `${other.who} holds the same end` });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(p.ino);
        resolve({ joined: false, why: `no remote command at its other end within ${this.waitMs} ms` });
      }, this.waitMs);
      this.waiting.set(p.ino, { end: p.end, who, resolve, timer });
    });
  }
}

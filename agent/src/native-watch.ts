/**
 * Directory watches through the native helper (`mproxy-pty --watcher`, native/pty/watcher.c),
 * which reads inotify in batches: a file being written no longer wakes the agent once per
 * write(2). Requests: u32le length, then 'A' u32le id + path, 'D' u32le id, or 'S' u32le n (tell
 * what is queued now). Replies: u32le length, u8 kind, u32le id, then for 'e' the errno name,
 * for 'c'/'r' the entry's name; 'k' (up), 'n' (anything may have changed; the watch ended) and
 * 's' (the answer to 'S', after the events queued before it) carry nothing more.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Where the helper's events go (watch.ts). */
export interface WatchSink {
  change(id: number, name: Buffer): void;
  rename(id: number, name: Buffer): void;
  /** Anything in watch `id` may have changed, and it has ended. */
  ended(id: number): void;
}

type Done = (err?: NodeJS.ErrnoException) => void;

/** How long an exit waits for the helper to read its queue (a stopped helper must not hold every exit). */
const SYNC_MS = 1000;

export class NativeWatcher {
  private readonly starting = new Map<number, Done>();
  private readonly live = new Set<number>();
  private readonly syncs = new Map<number, () => void>();
  private nextSync = 1;
  private pending: Buffer = Buffer.alloc(0);
  private gone = false;

  private constructor(
    private readonly helper: ChildProcess,
    private readonly sink: WatchSink,
  ) {
    helper.stdout?.on('data', (chunk: Buffer) => this.replies(chunk));
    helper.stdin?.on('error', () => undefined);
    helper.on('error', () => this.lost());
    helper.on('exit', () => this.lost());
  }

  /** The watcher of `helper`, or undefined when there is none to run. */
  static start(helper: string | undefined, sink: WatchSink): NativeWatcher | undefined {
    if (helper === undefined) return undefined;
    const proc = spawn(helper, ['--watcher'], { stdio: ['pipe', 'pipe', 'ignore'] });
    proc.unref();
    return new NativeWatcher(proc, sink);
  }

  get usable(): boolean {
    return !this.gone;
  }

  /** Starts watch `id` of directory `path`; `done` is told once it is up or could not be made. */
  add(id: number, path: Uint8Array, done: Done): void {
    this.starting.set(id, done);
    this.send('A', id, path);
  }

  /** `done` once every event queued until now has gone to the sink (at once when nothing is watched). */
  sync(done: () => void): void {
    if (this.live.size === 0 || this.gone) return done();
    const n = this.nextSync++;
    const timer = setTimeout(() => this.synced(n), SYNC_MS);
    timer.unref();
    this.syncs.set(n, () => {
      clearTimeout(timer);
      done();
    });
    this.send('S', n);
  }

  remove(id: number): void {
    this.starting.delete(id);
    if (this.live.delete(id)) this.send('D', id);
  }

  /** Sync `n` answered, or given up on. */
  private synced(n: number): void {
    const done = this.syncs.get(n);
    this.syncs.delete(n);
    done?.();
  }

  private send(kind: 'A' | 'D' | 'S', id: number, tail: Uint8Array = new Uint8Array(0)): void {
    const head = Buffer.alloc(9);
    head.writeUInt32LE(5 + tail.length, 0);
    head.write(kind, 4, 'latin1');
    head.writeUInt32LE(id, 5);
    this.helper.stdin?.write(tail.length > 0 ? Buffer.concat([head, tail]) : head);
  }

  private replies(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (this.pending.length - at >= 4) {
      const len = this.pending.readUInt32LE(at);
      if (this.pending.length - at - 4 < len) break;
      if (len >= 5) this.reply(String.fromCharCode(this.pending[at + 4] ?? 0), this.pending.readUInt32LE(at + 5), at + 9, at + 4 + len);
      at += 4 + len;
    }
    this.pending = this.pending.subarray(at);
  }

  private reply(kind: string, id: number, from: number, to: number): void {
    if (kind === 's') {
      this.synced(id);
    } else if (kind === 'k' || kind === 'e') {
      const done = this.starting.get(id);
      this.starting.delete(id);
      if (done === undefined) return void (kind === 'k' && this.send('D', id)); // removed while starting
      if (kind === 'k') this.live.add(id);
      const code = this.pending.toString('latin1', from, to);
      done(kind === 'k' ? undefined : Object.assign(new Error(`watch: ${code}`), { code }));
    } else if (!this.live.has(id)) {
      return;
    } else if (kind === 'n') {
      this.live.delete(id);
      this.sink.ended(id);
    } else {
      const name = Buffer.from(this.pending.subarray(from, to));
      if (kind === 'c') this.sink.change(id, name);
      else this.sink.rename(id, name);
    }
  }

  /** The helper is gone: watches starting fail, live ones end (the client watches again: fs.watch). */
  private lost(): void {
    if (this.gone) return;
    this.gone = true;
    for (const done of this.starting.values()) done(Object.assign(new Error("the agent's watch helper exited"), { code: 'EIO' }));
    this.starting.clear();
    for (const id of this.live) this.sink.ended(id);
    this.live.clear();
    for (const done of this.syncs.values()) done();
    this.syncs.clear();
  }
}

/**
 * Change notices for the directories a mount has cached, where the tier offers them (the
 * agent's inotify): a listed directory is watched, and what changes in it is dropped from the
 * caches at once. Bounded: past `limit` directories the least recently listed is unwatched,
 * and its entries fall back to the short lifetime.
 */
import type { RemoteHost, RemoteWatch } from '../remote/host.js';

export class DirWatches {
  private readonly live = new Map<string, RemoteWatch | 'starting'>();

  constructor(
    private readonly host: RemoteHost,
    private readonly remotePath: (dir: string) => Buffer,
    /** `name` null: anything in `dir` may have changed. */
    private readonly onChange: (dir: string, name: string | null) => void,
    private readonly limit = 4096,
  ) {}

  get available(): boolean {
    return this.host.watch !== undefined && this.host.info().capabilities.includes('watch');
  }

  isWatched(dir: string): boolean {
    const w = this.live.get(dir);
    return w !== undefined && w !== 'starting';
  }

  /** Starts watching `dir` unless it is already; the outcome only affects cache lifetimes. */
  ensure(dir: string): void {
    if (!this.available || this.live.has(dir)) return;
    this.live.set(dir, 'starting');
    const watching = this.host.watch?.(this.remotePath(dir), (name) => {
      if (name === null) this.live.delete(dir);
      this.onChange(dir, name === null ? null : Buffer.from(name).toString());
    });
    watching?.then(
      (w) => {
        if (this.live.get(dir) === 'starting') this.live.set(dir, w);
        else w.close();
        this.trim();
      },
      () => this.live.delete(dir),
    );
  }

  private trim(): void {
    for (const [dir, w] of this.live) {
      if (this.live.size <= this.limit) break;
      if (w !== 'starting') w.close();
      this.live.delete(dir);
    }
  }

  closeAll(): void {
    for (const w of this.live.values()) if (w !== 'starting') w.close();
    this.live.clear();
  }
}

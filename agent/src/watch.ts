/**
 * Directory watches for the client's caches: one per Watch frame, names as bytes. Through the
 * native helper where there is one (native-watch.ts: inotify read in batches), else fs.watch. A
 * watch that errors (the directory went away, events overflowed) reports "anything may have
 * changed" and ends; the client watches again if it still cares.
 *
 * A file being written makes one event per write(2): `head -c 1G > f` makes over 100,000,
 * which as frames would cost more than the writing. A change of a name is told at once, then at
 * most once per CHANGE_WINDOW_MS while more come (the last one is always told); renames at once.
 * Before a process's exit is told, what it changed is (settle): whoever reads a file after a
 * command has ended must not find the cache of before its last write.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Frame } from '../../src/protocol/frames.js';
import { T } from '../../src/protocol/frames.js';
import { NativeWatcher } from './native-watch.js';

/** While a name keeps changing, how often it is told. */
export const CHANGE_WINDOW_MS = 25;

export class Watches {
  private readonly watchers = new Map<number, FSWatcher | NativeWatcher>();
  /** Names told changed within the window, by watch: whether another change came since. */
  private readonly recent = new Map<number, Map<string, { again: boolean; readonly name: Buffer }>>();
  private readonly native: NativeWatcher | undefined;

  constructor(
    private readonly send: (frame: Frame) => void,
    helper?: string,
  ) {
    this.native = NativeWatcher.start(helper, {
      change: (id, name) => this.changed(id, name),
      rename: (id, name) => this.send({ t: T.Invalidate, id, name, k: 'rename' }),
      ended: (id) => this.ended(id),
    });
  }

  /**
   * Starts watching; `done` is told once the watch is up, or with the error that stopped it
   * (ENOENT, ENOTDIR, ENOSPC for the inotify limit).
   */
  add(id: number, path: Uint8Array, done: (err?: NodeJS.ErrnoException) => void): void {
    const native = this.native;
    if (native?.usable === true) {
      this.watchers.set(id, native);
      native.add(id, path, (err) => {
        if (err !== undefined) this.watchers.delete(id);
        done(err);
      });
      return;
    }
    try {
      const watcher = watch(Buffer.from(path), { encoding: 'buffer', persistent: false }, (event, name) => {
        if (event === 'change' && name !== null) this.changed(id, name);
        else this.send({ t: T.Invalidate, id, name: name ?? null, k: 'rename' });
      });
      watcher.on('error', () => this.ended(id));
      this.watchers.set(id, watcher);
    } catch (err) {
      return done(err as NodeJS.ErrnoException);
    }
    done();
  }

  private ended(id: number): void {
    if (!this.watchers.has(id)) return;
    this.send({ t: T.Invalidate, id, name: null });
    this.remove(id);
  }

  /** A change of `name`: told now, or folded into the one told at the end of its window. */
  private changed(id: number, name: Buffer): void {
    let names = this.recent.get(id);
    const key = name.toString('latin1');
    const seen = names?.get(key);
    if (seen !== undefined) return void (seen.again = true);
    if (names === undefined) this.recent.set(id, (names = new Map()));
    const entry = { again: false, name };
    names.set(key, entry);
    this.send({ t: T.Invalidate, id, name, k: 'change' });
    const tick = (): void => {
      if (!this.watchers.has(id)) return;
      if (!entry.again) return void names.delete(key);
      entry.again = false;
      this.send({ t: T.Invalidate, id, name, k: 'change' });
      setTimeout(tick, CHANGE_WINDOW_MS).unref();
    };
    setTimeout(tick, CHANGE_WINDOW_MS).unref();
  }

  /** `then` once every change made until now is told: queued events read, folded changes sent. */
  settle(then: () => void): void {
    const folded = (): void => {
      for (const [id, names] of this.recent)
        for (const entry of names.values())
          if (entry.again) {
            entry.again = false;
            this.send({ t: T.Invalidate, id, name: entry.name, k: 'change' });
          }
    };
    if (this.native === undefined) {
      folded();
      return then();
    }
    this.native.sync(() => {
      folded();
      then();
    });
  }

  remove(id: number): void {
    const w = this.watchers.get(id);
    this.watchers.delete(id);
    this.recent.delete(id);
    if (w instanceof NativeWatcher) w.remove(id);
    else w?.close();
  }

  closeAll(): void {
    for (const id of [...this.watchers.keys()]) this.remove(id);
  }
}

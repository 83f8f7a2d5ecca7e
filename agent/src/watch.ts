/**
 * Directory watches for the client's caches (inotify through fs.watch): one per Watch frame,
 * names as bytes. A watch that errors (the directory went away, events overflowed) reports
 * "anything may have changed" and ends; the client watches again if it still cares.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Frame } from '../../src/protocol/frames.js';
import { T } from '../../src/protocol/frames.js';

export class Watches {
  private readonly watchers = new Map<number, FSWatcher>();

  constructor(private readonly send: (frame: Frame) => void) {}

  /** Starts watching; throws (ENOENT, ENOTDIR, ENOSPC for the inotify limit) as fs.watch does. */
  add(id: number, path: Uint8Array): void {
    const watcher = watch(Buffer.from(path), { encoding: 'buffer', persistent: false }, (event, name) => {
      this.send({ t: T.Invalidate, id, name: name ?? null, k: event === 'change' ? 'change' : 'rename' });
    });
    watcher.on('error', () => {
      this.send({ t: T.Invalidate, id, name: null });
      this.remove(id);
    });
    this.watchers.set(id, watcher);
  }

  remove(id: number): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  closeAll(): void {
    for (const id of [...this.watchers.keys()]) this.remove(id);
  }
}

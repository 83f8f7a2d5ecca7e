/**
 * Contents of small files, kept while their (ino, mtime, size) stay what they were when read:
 * the second read of a source tree costs no round trip at all. Bounded in bytes, least
 * recently used first out.
 */
import type { WireStat } from '../protocol/file-ops.js';

interface Held {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly size: number;
  readonly data: Buffer;
}

export const SMALL_FILE = 256 * 1024;

export class ContentCache {
  private readonly held = new Map<string, Held>();
  private bytes = 0;

  constructor(private readonly budget = 64 * 1024 * 1024) {}

  /** The contents, if held and still those of a file with attributes `st`. */
  get(path: string, st: WireStat): Buffer | undefined {
    const h = this.held.get(path);
    if (h === undefined) return undefined;
    if (h.ino !== st.ino || h.mtimeMs !== st.mtimeMs || h.size !== st.size) {
      this.drop(path);
      return undefined;
    }
    // Most recently used last.
    this.held.delete(path);
    this.held.set(path, h);
    return h.data;
  }

  put(path: string, st: WireStat, data: Buffer): void {
    if (data.length > SMALL_FILE || data.length !== st.size) return;
    this.drop(path);
    this.held.set(path, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, data });
    this.bytes += data.length;
    for (const [oldest, h] of this.held) {
      if (this.bytes <= this.budget) break;
      this.held.delete(oldest);
      this.bytes -= h.data.length;
    }
  }

  drop(path: string): void {
    const h = this.held.get(path);
    if (h === undefined) return;
    this.held.delete(path);
    this.bytes -= h.data.length;
  }

  dropBelow(dir: string): void {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    for (const path of [...this.held.keys()]) if (path.startsWith(prefix)) this.drop(path);
  }
}

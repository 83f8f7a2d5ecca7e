/**
 * Attributes and directory listings of one mount, by path inside it. An entry is trusted for
 * its directory's lifetime: long where the remote reports changes to that directory (a watch
 * is up), `ttl` otherwise. Absent paths are remembered too (a compiler probing include paths
 * asks for thousands). Our own changes update or drop entries at once.
 */
import type { WireStat } from '../protocol/file-ops.js';

interface Timed<T> {
  readonly value: T;
  readonly until: number;
}

export function parentOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

export function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export class MetaCache {
  private readonly attrs = new Map<string, Timed<WireStat | null>>();
  private readonly dirs = new Map<string, Timed<readonly string[]>>();

  /** `lifetime(dir)`: how long entries in `dir` may be trusted from now, in ms. */
  constructor(private readonly lifetime: (dir: string) => number) {}

  private until(path: string): number {
    return Date.now() + this.lifetime(parentOf(path));
  }

  /** The attributes, null when known absent, undefined when unknown or stale. */
  attr(path: string): WireStat | null | undefined {
    const e = this.attrs.get(path);
    if (e === undefined) return undefined;
    if (e.until < Date.now()) {
      this.attrs.delete(path);
      return undefined;
    }
    return e.value;
  }

  setAttr(path: string, st: WireStat | null): void {
    this.attrs.set(path, { value: st, until: this.until(path) });
  }

  listing(dir: string): readonly string[] | undefined {
    const e = this.dirs.get(dir);
    if (e === undefined) return undefined;
    if (e.until < Date.now()) {
      this.dirs.delete(dir);
      return undefined;
    }
    return e.value;
  }

  setListing(dir: string, names: readonly string[]): void {
    this.dirs.set(dir, { value: names, until: Date.now() + this.lifetime(dir) });
  }

  /** `path` changed (created, written, removed, renamed): its attributes and its parent's listing go. */
  changed(path: string): void {
    this.attrs.delete(path);
    this.dirs.delete(path);
    this.dirs.delete(parentOf(path));
    this.attrs.delete(parentOf(path));
  }

  /** Anything under `dir` may have changed. */
  changedBelow(dir: string): void {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    for (const map of [this.attrs, this.dirs]) for (const key of map.keys()) if (key === dir || key.startsWith(prefix)) map.delete(key);
  }

  clear(): void {
    this.attrs.clear();
    this.dirs.clear();
  }
}

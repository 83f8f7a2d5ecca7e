/**
 * Reading ahead of a directory walk: once a file of a listed directory is read, the other
 * small regular files of that listing are fetched in the background, several at a time, into
 * the content cache — so a tool that reads every file it lists (grep -r, a compiler) finds
 * them there, while one that only stats them (find, git status) costs nothing extra. A read
 * that arrives while its fetch is under way waits for that fetch instead of starting another.
 */
import { constants } from 'node:fs';
import type { WireStat } from '../protocol/file-ops.js';
import type { RemoteFs } from '../remote/host.js';
import type { ContentCache } from './content-cache.js';

/** Files up to this size are fetched ahead; a listing's fetches stop at `PER_DIRECTORY` bytes. */
const PREFETCH_MAX = 64 * 1024;
const PER_DIRECTORY = 8 * 1024 * 1024;
const CONCURRENCY = 16;

export class Prefetcher {
  private readonly inFlight = new Map<string, Promise<Buffer | undefined>>();
  /** Small files of recent listings, by directory, until one of them is read. */
  private readonly candidates = new Map<string, { readonly path: string; readonly st: WireStat }[]>();
  private readonly queue: (() => void)[] = [];
  private running = 0;

  constructor(
    private readonly fs: RemoteFs,
    private readonly content: ContentCache,
    private readonly remote: (path: string) => Buffer,
    /** A file fetched ahead, still as listed: handed on (to the kernel's page cache). */
    private readonly fetched: (path: string, st: WireStat, data: Buffer) => void = () => undefined,
  ) {}

  /** Remembers the small files of a fresh listing of `dir`. */
  listed(dir: string, entries: readonly { readonly path: string; readonly st: WireStat }[]): void {
    const small = entries.filter(({ st }) => (st.mode & constants.S_IFMT) === constants.S_IFREG && st.size <= PREFETCH_MAX);
    if (small.length > 1) this.candidates.set(dir, small);
    // Bounded: the oldest listings are forgotten.
    for (const key of this.candidates.keys()) {
      if (this.candidates.size <= 256) break;
      this.candidates.delete(key);
    }
  }

  /** A file in `dir` is being read: fetch its siblings. */
  reading(dir: string): void {
    const entries = this.candidates.get(dir);
    if (entries === undefined) return;
    this.candidates.delete(dir);
    let budget = PER_DIRECTORY;
    for (const { path, st } of entries) {
      if (budget < st.size) continue;
      if (this.inFlight.has(path) || this.content.get(path, st) !== undefined) continue;
      budget -= st.size;
      this.inFlight.set(path, this.schedule(path, st));
    }
  }

  /** The fetch of `path` under way, if there is one. */
  pending(path: string): Promise<Buffer | undefined> | undefined {
    return this.inFlight.get(path);
  }

  private schedule(path: string, st: WireStat): Promise<Buffer | undefined> {
    return new Promise<void>((resolve) => {
      if (this.running < CONCURRENCY) {
        this.running++;
        resolve();
      } else this.queue.push(resolve);
    })
      .then(() => this.fetch(path, st))
      .catch(() => undefined)
      .finally(() => {
        this.inFlight.delete(path);
        const next = this.queue.shift();
        if (next !== undefined) next();
        else this.running--;
      });
  }

  private async fetch(path: string, st: WireStat): Promise<Buffer | undefined> {
    const data = Buffer.from(await this.fs.call('readFile', this.remote(path), st.size + 1));
    if (data.length !== st.size) return undefined;
    this.content.put(path, st, data);
    this.fetched(path, st, data);
    return data;
  }
}

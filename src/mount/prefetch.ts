/**
 * Reading ahead of a directory walk: once a file of a listed directory is read, the other
 * small regular files of that listing are fetched in the background, a batch per round trip
 * (readFiles), several batches at a time, into
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
/** Fetches under way at once, and how many files (bytes) one round trip carries at most. */
const CONCURRENCY = 8;
const BATCH_FILES = 32;
const BATCH_BYTES = 1024 * 1024;

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

  /** A file in `dir` is being read: fetch its siblings, a batch of them per round trip. */
  reading(dir: string): void {
    const entries = this.candidates.get(dir);
    if (entries === undefined) return;
    this.candidates.delete(dir);
    let budget = PER_DIRECTORY;
    let batch: { readonly path: string; readonly st: WireStat }[] = [];
    let batchBytes = 0;
    const send = (): void => {
      if (batch.length === 0) return;
      const files = batch;
      const fetching = this.schedule(() => this.fetchBatch(dir, files));
      files.forEach(({ path }, i) => {
        const one = fetching.then((got) => got[i]);
        this.inFlight.set(path, one);
        void one.finally(() => this.inFlight.get(path) === one && this.inFlight.delete(path));
      });
      batch = [];
      batchBytes = 0;
    };
    for (const entry of entries) {
      const { path, st } = entry;
      if (budget < st.size) continue;
      if (this.inFlight.has(path) || this.content.get(path, st) !== undefined) continue;
      budget -= st.size;
      if (batch.length >= BATCH_FILES || batchBytes + st.size > BATCH_BYTES) send();
      batch.push(entry);
      batchBytes += st.size;
    }
    send();
  }

  /** The fetch of `path` under way, if there is one. */
  pending(path: string): Promise<Buffer | undefined> | undefined {
    return this.inFlight.get(path);
  }

  /** Runs `work` once fewer than CONCURRENCY fetches are under way; its failure is no contents. */
  private schedule<T>(work: () => Promise<T[]>): Promise<(T | undefined)[]> {
    return new Promise<void>((resolve) => {
      if (this.running < CONCURRENCY) {
        this.running++;
        resolve();
      } else this.queue.push(resolve);
    })
      .then(work)
      .catch((): (T | undefined)[] => [])
      .finally(() => {
        const next = this.queue.shift();
        if (next !== undefined) next();
        else this.running--;
      });
  }

  /** Files of one directory in one round trip (readFiles); each kept only if still as listed. */
  private async fetchBatch(
    dir: string,
    files: readonly { readonly path: string; readonly st: WireStat }[],
  ): Promise<(Buffer | undefined)[]> {
    const limit = Math.max(...files.map(({ st }) => st.size)) + 1;
    const names = files.map(({ path }) => Buffer.from(path.slice(path.lastIndexOf('/') + 1)));
    const got = await this.fs.call('readFiles', this.remote(dir), names, limit);
    return files.map(({ path, st }, i) => {
      const bytes = got[i];
      if (bytes === null || bytes === undefined || bytes.length !== st.size) return undefined;
      const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.content.put(path, st, data);
      this.fetched(path, st, data);
      return data;
    });
  }
}

/**
 * Holding libuv's thread pool: every thread is kept busy opening a FIFO nobody writes, so no
 * background fs call runs until release(). A test sees what the file holds while the writes a
 * writer started in the background are still waiting.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, open } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempTree } from './tmp.js';

export function holdThreadPool(t: TestContext): { release(): Promise<void> } {
  const dir = tempTree(t, {});
  const fifos = Array.from({ length: Number(process.env['UV_THREADPOOL_SIZE'] ?? 4) }, (_, i) => join(dir, `fifo-${i}`));
  assert.equal(spawnSync('mkfifo', fifos).status, 0);
  const blocked = fifos.map(
    (f) => new Promise<number>((resolve, reject) => open(f, 'r', (err, fd) => (err === null ? resolve(fd) : reject(err)))),
  );
  return {
    async release() {
      // A writer's open waits for the reader's, so none is missed however late the pool's
      // threads start (a non-blocking open fails while a reader is still only queued).
      const freed = spawnSync('sh', ['-c', 'for f do : > "$f"; done', 'sh', ...fifos], { timeout: 30_000 });
      assert.equal(freed.status, 0, "the pool's blocked opens were let go");
      for (const fd of await Promise.all(blocked)) closeSync(fd);
    },
  };
}

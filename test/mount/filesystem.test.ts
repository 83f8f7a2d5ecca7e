/**
 * The filesystem at scale, on the agent tier: a walk of a 100,000-file tree lists every entry
 * with its attributes, and the process serving the mount stays within 300 MiB of memory —
 * nodes follow the kernel's own inode cache, listings ahead are bounded.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { local } from '../conformance/mount-cases.js';
import { localMount } from '../helpers/local-mount.js';

const DIRS = 1000;
const PER_DIR = 100;
const RSS_LIMIT = 300 * 1024 * 1024;

const tree = localMount('walk', 1000, 60_000, (remote) => {
  for (let d = 0; d < DIRS; d++) {
    const dir = join(remote, `d${Math.floor(d / 100)}`, `e${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR; f++) writeFileSync(join(dir, `f${f}`), '');
  }
});
test('a walk of 100,000 files sees them all and keeps the serving process under 300 MiB', async (t) => {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const r = await local(`find . -type f -printf '%s\\n' | sort | uniq -c`, tree.mnt());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), `${DIRS * PER_DIR} 0`);
    const dirs = await local('find . -type d | wc -l', tree.mnt());
    assert.equal(dirs.out.trim(), String(DIRS + DIRS / 100 + 1));
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  t.diagnostic(`peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
  assert.ok(peak < RSS_LIMIT, `peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
});

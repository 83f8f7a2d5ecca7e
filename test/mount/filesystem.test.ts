/**
 * The filesystem at scale, on the agent tier: a walk of a 100,000-file tree lists every entry
 * with its attributes, and the process serving the mount stays within 300 MiB of memory —
 * nodes follow the kernel's own inode cache, listings ahead are bounded.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mountAll, type Mounted } from '../../src/mount/mount.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { connectLocal } from '../../src/target/local.js';
import { local } from '../conformance/mount-cases.js';

const DIRS = 1000;
const PER_DIR = 100;
const RSS_LIMIT = 300 * 1024 * 1024;

let host: RemoteHost | undefined;
let mounted: Mounted | undefined;
/** Temporary directories made here; '' until made. */
let base = '';
let remote = '';
let mnt = '';

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'mproxy-walk-'));
  remote = join(base, 'remote');
  mnt = join(base, 'mnt');
  for (let d = 0; d < DIRS; d++) {
    const dir = join(remote, `d${Math.floor(d / 100)}`, `e${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR; f++) writeFileSync(join(dir, `f${f}`), '');
  }
  host = await connectLocal();
  mounted = await mountAll(host, [{ remote, local: mnt, readOnly: false, owner: 'local', ttlMs: 1000 }], { opTimeoutMs: 60_000 });
});

after(async () => {
  await mounted?.unmount();
  await host?.close();
  // Only the temporary directory made above, once the mount is gone from it.
  if (base !== '' && remote !== '') rmSync(remote, { recursive: true, force: true });
  if (base !== '') rmdirSync(base);
});

test('a walk of 100,000 files sees them all and keeps the serving process under 300 MiB', async (t) => {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const r = await local(`find . -type f -printf '%s\\n' | sort | uniq -c`, mnt);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), `${DIRS * PER_DIR} 0`);
    const dirs = await local('find . -type d | wc -l', mnt);
    assert.equal(dirs.out.trim(), String(DIRS + DIRS / 100 + 1));
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  t.diagnostic(`peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
  assert.ok(peak < RSS_LIMIT, `peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
});

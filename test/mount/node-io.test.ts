/**
 * Reading a large file through the mount (agent tier, real FUSE): the kernel keeps many READs in
 * flight, out of order and not aligned to our blocks; every byte arrives right, and each is
 * fetched from the remote once — not again because a later READ dropped a block an earlier one
 * still waited for.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { joinBytes, type FileOpResult } from '../../src/protocol/file-ops.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { local } from '../conformance/mount-cases.js';
import { localMount } from '../helpers/local-mount.js';

const MiB = 1 << 20;
const SIZE = 64 * MiB + 12345;

let fetched = 0;
function counting(host: RemoteHost): RemoteHost {
  return {
    ...host,
    fs: {
      call: async (op, ...args) => {
        const got = await host.fs.call(op, ...args);
        if (op === 'read') fetched += joinBytes(got as FileOpResult<'read'>).length;
        return got;
      },
    },
    info: () => host.info(),
    exec: (r) => host.exec(r),
    pathQuery: (d) => host.pathQuery(d),
    ...(host.watch !== undefined ? { watch: host.watch.bind(host) } : {}),
    close: () => host.close(),
  };
}

const m = localMount('node-io', 1000, 30_000, (remote) => writeFileSync(join(remote, 'big'), randomBytes(SIZE)), { serve: counting });

test('a sequential read of a 64 MiB file gets every byte, each fetched from the remote once', async () => {
  const want = createHash('sha256')
    .update(readFileSync(join(m.remote(), 'big')))
    .digest('hex');
  fetched = 0;
  const r = await local('sha256sum big', m.mnt());
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split(' ')[0], want);
  // The first READ comes before readahead starts and overlaps its first block: at most one block more.
  assert.ok(fetched <= SIZE + MiB, `fetched ${(fetched / MiB).toFixed(1)} MiB for a ${(SIZE / MiB).toFixed(1)} MiB file`);
});

test('reads at offsets and lengths that straddle blocks get the right bytes', async () => {
  const reads = [
    [0, 100],
    [MiB - 3, 7],
    [MiB + MiB / 2, MiB],
    [3 * MiB - 1, 2 * MiB + 2],
    [SIZE - 10, 100],
    [SIZE + 5, 10],
    [17 * MiB + 1, 4096],
  ];
  const program = `import os, hashlib, json
fd = os.open('big', os.O_RDONLY)
print(json.dumps([hashlib.sha256(os.pread(fd, n, off)).hexdigest() for off, n in ${JSON.stringify(reads)}]))`;
  // Twice: once cold (direct reads and readahead starting), once as the kernel's cache has it.
  for (const round of [1, 2]) {
    const r = await local(`/usr/bin/python3 -c "${program.replace(/"/g, '\\"')}"`, m.mnt());
    assert.equal(r.code, 0, r.err);
    const whole = readFileSync(join(m.remote(), 'big'));
    const want = reads.map(([off, n]) =>
      createHash('sha256')
        .update(whole.subarray(off, (off as number) + (n as number)))
        .digest('hex'),
    );
    assert.deepEqual(JSON.parse(r.out), want, `round ${round}`);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec.js';
import { packDirEntries, unpackDirEntries, type WireDirEntry } from '../../src/protocol/file-ops.js';
import { T, type Frame } from '../../src/protocol/frames.js';

const entries: WireDirEntry[] = [
  {
    name: Buffer.from('a file'),
    st: {
      dev: 2049,
      ino: 2 ** 40 + 7,
      mode: 0o100644,
      nlink: 1,
      uid: 1000,
      gid: 1000,
      rdev: 0,
      size: 5 * 2 ** 32,
      blocks: 8,
      atimeMs: 1.5e12 + 0.25,
      mtimeMs: 1.6e12,
      ctimeMs: 1.7e12,
    },
  },
  { name: Buffer.from([0x6e, 0xff]) },
];

test('a readdir answer packed for the wire comes back as the same entries', () => {
  const got: Frame[] = [];
  new FrameDecoder((f) => got.push(f)).push(encodeFrame({ t: T.FileResp, id: 1, r: packDirEntries(entries) }));
  const [answer] = got;
  assert.ok(answer?.t === T.FileResp);
  assert.deepEqual(unpackDirEntries(answer.r), entries);
});

test('anything else is not taken for a readdir answer', () => {
  for (const bad of [null, 'x', [['name']], [[Buffer.from('n'), 1, 2]], [[Buffer.from('n'), ...Array(12).fill('1')]]]) {
    assert.equal(unpackDirEntries(bad), undefined, JSON.stringify(bad));
  }
});

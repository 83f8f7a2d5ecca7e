/** A regular file's WireStat for tests of pure logic, with the fields a test cares about given. */
import type { WireStat } from '../../src/protocol/file-ops.js';

export const st = (over: Partial<WireStat> = {}): WireStat => ({
  dev: 1,
  ino: 7,
  mode: 0o100644,
  nlink: 1,
  uid: 0,
  gid: 0,
  rdev: 0,
  size: 3,
  blocks: 8,
  atimeMs: 1,
  mtimeMs: 1000,
  ctimeMs: 1000,
  ...over,
});

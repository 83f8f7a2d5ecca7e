/** The agentless PATH listing, its script run by a real dash and a real busybox sh here. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePathListing, pathScript, queryPath } from '../../../src/remote/agentless/path-list.js';
import type { RemoteFs } from '../../../src/remote/host.js';
import { tempTree } from '../../helpers/tmp.js';

const SHELLS = [['/bin/sh'], ['/usr/bin/busybox', 'sh']] as const;

function binTree(t: Parameters<typeof tempTree>[0]): { a: string; b: string } {
  const root = tempTree(t, {
    'a/tool': '#!/bin/sh\n',
    'a/with space': '#!/bin/sh\n',
    'a/line\nbreak': '#!/bin/sh\n',
    'a/.hidden': '#!/bin/sh\n',
    'a/plain.txt': 'not a command\n',
    'b/tool': '#!/bin/sh\necho second\n',
    'b/other': '#!/bin/sh\n',
  });
  const a = join(root, 'a');
  const b = join(root, 'b');
  for (const f of ['tool', 'with space', 'line\nbreak', '.hidden']) chmodSync(join(a, f), 0o755);
  for (const f of ['tool', 'other']) chmodSync(join(b, f), 0o755);
  symlinkSync('other', join(b, 'linked')); // an executable through a symlink: listed
  symlinkSync('no-such-target', join(b, 'dangling')); // runs nothing: not listed
  mkdirSync(join(b, 'subdir'), { mode: 0o755 }); // a directory with x bits: not a command
  return { a, b };
}

for (const shell of SHELLS) {
  test(`${shell.join(' ')}: executables of each directory, symlinks followed, the first of each name winning`, (t) => {
    const { a, b } = binTree(t);
    const r = spawnSync(shell[0], [...shell.slice(1), '-c', pathScript([a, join(a, 'missing'), b])]);
    assert.equal(r.status, 0, r.stderr.toString());
    const entries = parsePathListing(r.stdout);
    assert.deepEqual(entries?.map((e) => e.path).sort(), [
      `${a}/.hidden`,
      `${a}/line\nbreak`,
      `${a}/tool`,
      `${a}/with space`,
      `${b}/linked`,
      `${b}/other`,
    ]);
    const linked = entries?.find((e) => e.name === 'linked');
    const target = statSync(join(b, 'other'));
    assert.equal(linked?.mode, target.mode);
    assert.equal(linked?.size, target.size);
    assert.equal(linked?.mtime, Math.floor(target.mtimeMs / 1000) * 1000);
  });
}

test('an empty PATH lists nothing; a cut-off listing is not taken for a short one', (t) => {
  assert.deepEqual(parsePathListing(Buffer.alloc(0)), []);
  const { a } = binTree(t);
  const whole = spawnSync('/bin/sh', ['-c', pathScript([a])]).stdout;
  assert.equal(parsePathListing(whole)?.length, 4);
  assert.equal(parsePathListing(whole.subarray(0, whole.length - 3)), undefined);
  assert.equal(parsePathListing(Buffer.from('no listing here')), undefined);
});

test('where the script cannot run, the listing comes from the file operations', async () => {
  const dirs: string[] = [];
  const fs = {
    call: async (op: string, path: Buffer) => {
      assert.equal(op, 'readdir');
      dirs.push(path.toString());
      return [{ name: Buffer.from('make'), st: { mode: 0o100755, size: 10, mtimeMs: 5000 } }];
    },
  } as unknown as RemoteFs;
  const failed = async () => ({ code: 3, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
  const entries = await queryPath(failed, fs, ['/usr/bin']);
  assert.deepEqual(dirs, ['/usr/bin']);
  assert.deepEqual(
    entries.map((e) => e.path),
    ['/usr/bin/make'],
  );
});

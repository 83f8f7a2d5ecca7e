/**
 * A mount whose local path runs through a symlink (Fedora Silverblue's /home → /var/home): the
 * kernel names the directory by its resolved path (getcwd), the profile by the link; a remote
 * command started in a subdirectory still runs in the matching remote subdirectory, and paths
 * with `..` map as they resolve.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { tempTree } from '../helpers/tmp.js';
import { leftovers } from './up-backends.js';

test('a mount under a symlinked directory: remote commands run in the mapped subdirectory', (t) => {
  const root = tempTree(t, { 'remote/sub/deeper/file.txt': 'in deeper\n' });
  mkdirSync(join(root, 'real'));
  symlinkSync(join(root, 'real'), join(root, 'link'));
  const local = join(root, 'link', 'ws');
  const profile = join(root, 'p.toml');
  writeFileSync(profile, `[target]\nuri = "local"\n[[mounts]]\nremote = "${root}/remote"\nlocal = "${local}"\n`);
  const sessions = mkdtempSync(join(tmpdir(), 'mproxy-up-sessions-'));
  try {
    const script = [
      `cd ${local}/sub && sh -c pwd`,
      `cd ${join(root, 'real', 'ws', 'sub', 'deeper')} && sh -c pwd`,
      `cd ${local}/sub/deeper/.. && sh -c pwd && cat deeper/../deeper/file.txt`,
    ].join('\n');
    const r = spawnSync(process.execPath, [MPROXY_BIN, 'up', profile, '--', 'bash', '-c', script], {
      cwd: root,
      env: testEnv({ HOME: root, TMPDIR: sessions }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${root}/remote/sub\n${root}/remote/sub/deeper\n${root}/remote/sub\nin deeper\n`);
    assert.deepEqual(leftovers(sessions), []);
  } finally {
    rmdirSync(sessions);
  }
});

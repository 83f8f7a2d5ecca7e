/** `mproxy init` as a user runs it in a repository: the profile, the schema beside it, the ignore file, never an overwrite. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMproxy, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';

test('init writes a profile that validates, with its schema, at the git root, and never overwrites', (t) => {
  const root = tempTree(t, { 'repo/src/main.c': '' });
  mkdirSync(join(root, 'repo', '.git'));
  const env = testEnv({ HOME: root });
  const cwd = join(root, 'repo', 'src');
  const r = runMproxy(['init', 'build-box', '--target', 'builder@build01'], { cwd, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote \.\.\/\.mproxy\/build-box\.toml \(target builder@build01\)/);
  const text = readFileSync(join(root, 'repo', '.mproxy', 'build-box.toml'), 'utf8');
  assert.match(text, /^#:schema \.\/profile\.schema\.json\n/);
  assert.match(text, /^uri = "builder@build01"$/m);
  assert.match(text, /^# identity_file = /m, 'the other keys are there, commented');
  assert.ok(JSON.parse(readFileSync(join(root, 'repo', '.mproxy', 'profile.schema.json'), 'utf8')), 'the schema is beside it');
  assert.deepEqual(readFileSync(join(root, 'repo', '.mproxy', '.gitignore'), 'utf8').split('\n'), ['*.local.toml', 'recordings/', '']);
  const valid = runMproxy(['validate', '../.mproxy/build-box.toml'], { cwd, env });
  assert.equal(valid.code, 0, valid.stderr);

  writeFileSync(join(root, 'repo', '.mproxy', 'build-box.toml'), 'edited by hand\n');
  const again = runMproxy(['init', 'build-box', '--target', 'local'], { cwd, env });
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /build-box\.toml exists already; init never overwrites a profile/);
  assert.equal(readFileSync(join(root, 'repo', '.mproxy', 'build-box.toml'), 'utf8'), 'edited by hand\n');
});

test('init refuses a bad target or name, and asks for a target only on a terminal', (t) => {
  const root = tempTree(t, {});
  const env = testEnv({ HOME: root });
  const bad = runMproxy(['init', 'x', '--target', 'ssh://[::1'], { cwd: root, env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--target ssh:\/\/\[::1: unclosed `\[`/);
  assert.match(runMproxy(['init', '../evil', '--target', 'local'], { cwd: root, env }).stderr, /`\.\.\/evil` is not a profile name/);
  const noTerminal = runMproxy(['init'], { cwd: root, env });
  assert.equal(noTerminal.code, 2);
  assert.match(noTerminal.stderr, /no target given, and no terminal to ask on/);
});

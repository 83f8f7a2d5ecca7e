/** `mproxy validate` beyond the golden fixtures: directories, discovery, --json, large and binary files. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMproxy, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';

test('the shipped example profiles are valid', () => {
  const r = runMproxy(['validate', 'profiles/']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^5 profiles checked, 0 invalid$/m);
  assert.equal(runMproxy(['validate', 'machineproxy.toml.example']).code, 0);
});

test('no PATH: the repository .mproxy/ found from a subdirectory, stopping at the git root', (t) => {
  const root = tempTree(t, {
    '.git/HEAD': 'ref: refs/heads/main\n',
    '.mproxy/base.toml': '[target]\nagent = "none"\n',
    '.mproxy/box.toml': 'extends = "base.toml"\n[target]\nuri = "build01"\n',
    '.mproxy/box.local.toml': '[target]\nagent = "nodejs"\n',
    'src/deep/file.txt': '',
  });
  const r = runMproxy(['validate'], { cwd: `${root}/src/deep` });
  assert.equal(r.code, 1, 'the overlay makes box invalid');
  assert.match(r.stderr, /box\.local\.toml:2:9: error: target\.agent: `"nodejs"` is not allowed/);
  assert.match(
    r.stderr,
    /2 profiles checked, 1 invalid/,
    'base.toml is checked as a partial profile; the overlay is not a profile of its own',
  );
});

test('no PATH and no .mproxy/: a clear error, not a crash', (t) => {
  const root = tempTree(t, { '.git/HEAD': '', 'a/b': '' });
  const r = runMproxy(['validate'], { cwd: `${root}/a` });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no PATH given and no \.mproxy\/ directory found/);
});

test('--json reports every file, valid or not, on stdout', (t) => {
  const root = tempTree(t, {
    'good.toml': '[target]\nuri = "local"\n',
    'bad.toml': '[target]\nuri = "ssh://h:0"\nagent = "x"\n',
  });
  const r = runMproxy(['validate', '--json', 'good.toml', 'bad.toml'], { cwd: root });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout) as {
    file: string;
    valid: boolean;
    issues: { line: number; column: number; path: string; message: string; hint: string | null }[];
  }[];
  assert.deepEqual(
    out.map((f) => [f.file, f.valid]),
    [
      ['good.toml', true],
      ['bad.toml', false],
    ],
  );
  assert.deepEqual(
    out[1]?.issues.map((i) => [i.line, i.column, i.path]),
    [
      [2, 7, 'target.uri'],
      [3, 9, 'target.agent'],
    ],
  );
  assert.equal(out[1]?.issues[1]?.hint, 'expected one of auto, node, none');
});

test('a 10 MB file is refused at once, unread', (t) => {
  const root = tempTree(t, { 'huge.toml': `[target]\nuri = "local"\n${'# padding\n'.repeat(1_100_000)}` });
  const r = runMproxy(['validate', 'huge.toml'], { cwd: root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^huge\.toml:1:1: error: file is 10\.\d MiB; a profile may be at most 1 MiB/);
});

test('--set overrides are validated and located as flags', (t) => {
  const root = tempTree(t, { 'p.toml': '[target]\nuri = "local"\n' });
  const r = runMproxy(['validate', 'p.toml', '--set', 'target.agent=sometimes'], { cwd: root, env: testEnv() });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /target\.agent: `"sometimes"` is not allowed/);
  assert.match(r.stderr, /hint: the value came from the command-line flag --set target\.agent=sometimes/);
});

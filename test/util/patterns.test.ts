import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileCommandPattern, compileGlob, compileNamePattern } from '../../src/util/patterns.js';

function matcher<T>(c: { ok: true; value: T } | { ok: false; reason: string }): T {
  assert.ok(c.ok, c.ok ? '' : c.reason);
  return c.value;
}

test('globs: * ? classes and escapes, anchored', () => {
  const m = matcher(compileNamePattern('LC_*'));
  assert.ok(m('LC_ALL') && m('LC_') && !m('XLC_ALL'));
  const q = matcher(compileNamePattern('AWS_?'));
  assert.ok(q('AWS_X') && !q('AWS_XY'));
  const cls = matcher(compileNamePattern('[A-C]_[!0-9]'));
  assert.ok(cls('B_x') && !cls('B_1') && !cls('D_x'));
  const esc = matcher(compileNamePattern('A\\*'));
  assert.ok(esc('A*') && !esc('AB'));
  const dot = matcher(compileNamePattern('A.B'));
  assert.ok(dot('A.B') && !dot('AxB'));
});

test('bad globs say what is wrong', () => {
  const open = compileGlob('LC_[A-Z');
  assert.ok(!open.ok && /unclosed `\[` at character 4/.test(open.reason));
  const close = compileGlob('X]');
  assert.ok(!close.ok && /closes no/.test(close.reason));
});

test('/regex/ name patterns match anywhere unless anchored; bad ones quote the engine', () => {
  const m = matcher(compileNamePattern('/^ANTHROPIC_/'));
  assert.ok(m('ANTHROPIC_API_KEY') && !m('MY_ANTHROPIC_X'));
  const bad = compileNamePattern('/(x/');
  assert.ok(!bad.ok && /Unterminated group/.test(bad.reason));
});

test('command patterns: basename, exact path, regex on the full path', () => {
  const base = matcher(compileCommandPattern('git'));
  assert.ok(base('/usr/bin/git') && base('git') && !base('/usr/bin/git-lfs'));
  const abs = matcher(compileCommandPattern('/usr/bin/env'));
  assert.ok(abs('/usr/bin/env') && !abs('/bin/env'));
  const re = matcher(compileCommandPattern('/^\\/opt\\/tools\\//'));
  assert.ok(re('/opt/tools/x') && !re('/usr/opt/tools/x'));
});

test('a slash only in the middle is refused with the three ways to say it', () => {
  const c = compileCommandPattern('bin/bash');
  assert.ok(!c.ok);
  assert.match(c.hint, /`bash`.*`\/bin\/bash`.*\/regex\//);
});

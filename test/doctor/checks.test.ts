import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { localChecks, which } from '../../src/doctor/checks.js';
import { tempTree } from '../helpers/tmp.js';

test('which finds an executable file on PATH, in PATH order, passing over what cannot run', (t) => {
  const root = tempTree(t, { 'a/tool': '', 'b/tool': '', 'c/tool/x': '', 'd/tool': '' });
  chmodSync(join(root, 'b/tool'), 0o755);
  chmodSync(join(root, 'd/tool'), 0o755);
  assert.equal(which('tool', { PATH: `${root}/b:${root}/d` }), `${root}/b/tool`);
  assert.equal(which('tool', { PATH: `${root}/a:${root}/c:${root}/d` }), `${root}/d/tool`, 'not executable, a directory');
  assert.equal(which('tool', { PATH: `relative:${root}/a:/nonexistent` }), undefined);
});

test('every failing or warning check carries a fix', () => {
  for (const r of localChecks({ PATH: '/nonexistent' })) {
    if (r.status !== 'ok') assert.ok((r.fix ?? '').length > 10, `${r.name} has no fix`);
  }
});

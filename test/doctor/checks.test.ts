import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localChecks, which } from '../../src/doctor/checks.js';
import { tempTree } from '../helpers/tmp.js';

test('which finds a file on PATH, in PATH order', (t) => {
  const root = tempTree(t, { 'a/tool': '', 'b/tool': '' });
  assert.equal(which('tool', { PATH: `${root}/a:${root}/b` }), `${root}/a/tool`);
  assert.equal(which('tool', { PATH: '/nonexistent' }), undefined);
});

test('every failing or warning check carries a fix', () => {
  for (const r of localChecks({ PATH: '/nonexistent' })) {
    if (r.status !== 'ok') assert.ok((r.fix ?? '').length > 10, `${r.name} has no fix`);
  }
});

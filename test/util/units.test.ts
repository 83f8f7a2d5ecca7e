import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSize } from '../../src/util/units.js';
import { closest, editDistance } from '../../src/util/suggest.js';

test('durations', () => {
  assert.equal(parseDuration('15s'), 15_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  for (const bad of ['15', '-1s', '1 s', 's', '', '1w']) assert.equal(parseDuration(bad), undefined, bad);
});

test('sizes', () => {
  assert.equal(parseSize('512MiB'), 512 * 1024 * 1024);
  assert.equal(parseSize('10MB'), 10_000_000);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('1.5 KiB'), 1536);
  for (const bad of ['lots', '-1MiB', 'MiB', '1 XB']) assert.equal(parseSize(bad), undefined, bad);
});

test('suggestions are close matches only', () => {
  assert.equal(editDistance('kep', 'keep'), 1);
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(closest('kep', ['keep', 'remove', 'set']), 'keep');
  assert.equal(closest('identityfile', ['identity_file', 'jump']), 'identity_file');
  assert.equal(closest('zzzzzz', ['default', 'local_commands']), undefined);
});

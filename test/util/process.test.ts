/** Telling a live process from one that is gone, or whose pid a later process took. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { processGone, processStartMs } from '../../src/util/process.js';

test('this process runs, and started before now', () => {
  const started = processStartMs(process.pid) ?? Infinity;
  assert.ok(started <= Date.now() + 1000 && started > Date.now() - 10 * 60_000, String(started));
  assert.equal(processGone(process.pid, Date.now()), false);
});

test('an exited process is gone', () => {
  const pid = spawnSync('true').pid ?? 0;
  assert.equal(processStartMs(pid), undefined);
  assert.equal(processGone(pid, Date.now()), true);
});

test('a pid known long before this process started belongs to a gone one', () => {
  assert.equal(processGone(process.pid, (processStartMs(process.pid) ?? 0) - 60_000), true);
});

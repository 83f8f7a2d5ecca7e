/**
 * The undo list of a session's startup: last in, first out; one failing action does not stop
 * the others; a signal that arrives while it runs neither kills the process nor cuts it short.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Teardown } from '../../src/runner/startup.js';

test('undo actions run last-in first-out, each even when an earlier one failed', async () => {
  const order: string[] = [];
  const teardown = new Teardown();
  teardown.add(() => order.push('connection'));
  teardown.add(async () => {
    order.push('mount');
    await Promise.reject(new Error('fusermount failed'));
  });
  teardown.add(() => order.push('broker'));
  await teardown.run();
  assert.deepEqual(order, ['broker', 'mount', 'connection']);
  await teardown.run();
  assert.deepEqual(order, ['broker', 'mount', 'connection'], 'each runs once');
});

test('SIGINT and SIGTERM during the teardown are held until it has finished', async () => {
  const order: string[] = [];
  const teardown = new Teardown();
  teardown.add(() => order.push('session directory'));
  teardown.add(async () => {
    process.kill(process.pid, 'SIGINT');
    process.kill(process.pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the signals are delivered meanwhile
    order.push('mount');
  });
  await teardown.run();
  assert.deepEqual(order, ['mount', 'session directory'], 'the process is alive and every action ran');
  assert.equal(process.listenerCount('SIGINT'), 0, 'the handlers are gone afterwards');
  assert.equal(process.listenerCount('SIGTERM'), 0);
});

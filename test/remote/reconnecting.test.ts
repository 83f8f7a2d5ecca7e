/** The reconnecting host's routing, over fake hosts: what is refused after a lost link, what reconnects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReconnectingHost } from '../../src/remote/reconnecting.js';
import { RemoteFsError, type RemoteHost } from '../../src/remote/host.js';

function fakeHost(name: string, calls: string[]): RemoteHost & { lost: boolean } {
  const host = {
    lost: false,
    get isLost() {
      return host.lost;
    },
    fs: {
      call: async (op: string) => {
        calls.push(`${name}:${op}`);
        return op === 'read' ? new Uint8Array([1]) : null;
      },
    },
  };
  return host as unknown as RemoteHost & { lost: boolean };
}

test('after a lost link a handle is refused (EBADF) and never sent on the new connection; a path reconnects', async () => {
  const calls: string[] = [];
  const first = fakeHost('first', calls);
  let connects = 0;
  const host = new ReconnectingHost(
    first,
    async () => {
      connects++;
      return fakeHost('second', calls);
    },
    { description: 'fake' },
  );
  await host.fs.call('read', 1, 0, 10);
  first.lost = true;
  await assert.rejects(host.fs.call('read', 1, 0, 10), (err: unknown) => err instanceof RemoteFsError && err.code === 'EBADF');
  await assert.rejects(host.fs.call('write', 1, 0, new Uint8Array(1)), { code: 'EBADF' });
  assert.equal(connects, 0, 'a handle does not reconnect');
  await host.fs.call('lstat', Buffer.from('/x'));
  assert.equal(connects, 1);
  assert.equal(host.generation, 1, 'handles of generation 0 name nothing now');
  await host.fs.call('read', 7, 0, 10);
  assert.deepEqual(calls, ['first:read', 'second:lstat', 'second:read']);
});

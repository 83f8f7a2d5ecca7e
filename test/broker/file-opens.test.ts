/** Which redirections the remote opens itself (pure logic; the real thing: test/runner/up-redirections). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MountFiles, planFiles, settleFiles } from '../../src/broker/file-opens.js';
import type { FileFd } from '../../src/broker/wire.js';

const changed: string[] = [];
const mounts: MountFiles = {
  remotePath: (local) => (local.startsWith('/work/') ? `/srv/ws/${local.slice(6)}` : undefined),
  changed: async (local) => void changed.push(local),
};

const fd = (over: Partial<FileFd> & { fd: number }): FileFd => ({
  mode: 'r',
  append: false,
  offset: 0,
  same: -1,
  alone: true,
  path: '/work/f',
  ...over,
});

test('a file of the mount at position 0, held by nobody else, is opened there; shared fds go with it', () => {
  const said: string[] = [];
  const plan = planFiles(
    [fd({ fd: 0, path: '/work/in' }), fd({ fd: 1, mode: 'w', path: '/work/out' }), fd({ fd: 2, mode: 'w', path: '/work/out', same: 1 })],
    mounts,
    'make',
    false,
    (m) => said.push(m),
  );
  assert.deepEqual(plan.opens, [
    { fds: [0], path: '/srv/ws/in', mode: 'r' },
    { fds: [1, 2], path: '/srv/ws/out', mode: 'w' },
  ]);
  assert.deepEqual(plan.taken, [0, 1, 2]);
  assert.deepEqual(said, ['in opened on the remote for make (fd 0, r)', 'out opened on the remote for make (fd 1, 2, w)']);
});

test('carried here, each with its reason: held elsewhere, moved on, outside the mounts, sharing one that stays', () => {
  const said: string[] = [];
  const plan = planFiles(
    [
      fd({ fd: 0, alone: false }),
      fd({ fd: 1, mode: 'w', offset: 10 }),
      fd({ fd: 2, mode: 'w', path: '/elsewhere/log' }),
      fd({ fd: 3, mode: 'w', same: 1 }),
      fd({ fd: 4, mode: 'w', offset: 10, append: true, path: '/work/log' }),
    ],
    mounts,
    'cc',
    false,
    (m) => said.push(m),
  );
  assert.deepEqual(plan.opens, [{ fds: [4], path: '/srv/ws/log', mode: 'w', append: true }], 'an appending fd goes whatever its position');
  assert.deepEqual(plan.taken, [4]);
  assert.deepEqual(said.slice(0, 4), [
    'fd 0 of cc (/work/f) carried here: another process holds it open here',
    'fd 1 of cc (/work/f) carried here: its position is 10, not the start',
    'fd 2 of cc (/elsewhere/log) carried here: it is outside the mounts',
    "fd 3 of cc (/work/f) carried here: it shares fd 1's open file, which stays here",
  ]);
});

test('after the command: what it could write is dropped from the mount, positions follow the remote', async () => {
  changed.length = 0;
  const plan = planFiles(
    [
      fd({ fd: 0, path: '/work/in' }),
      fd({ fd: 1, mode: 'w', path: '/work/out' }),
      fd({ fd: 2, mode: 'w', append: true, path: '/work/log' }),
    ],
    mounts,
    'x',
    false,
  );
  assert.deepEqual(await settleFiles(plan, [4096, 12, 99], mounts), [
    { fd: 0, pos: 4096 },
    { fd: 1, pos: 12 },
  ]);
  assert.deepEqual(changed, ['/work/out', '/work/log'], 'a file only read stays cached');
  assert.deepEqual(await settleFiles(plan, undefined, mounts), [], 'no positions known (the command failed to start): none set');
});

test("on a terminal, stdin, stdout and stderr are the remote pty's: a file there, and fds sharing it, stay here", () => {
  const said: string[] = [];
  const plan = planFiles(
    [fd({ fd: 2, mode: 'w', path: '/work/err' }), fd({ fd: 3, mode: 'w', path: '/work/err', same: 2 }), fd({ fd: 4, path: '/work/in' })],
    mounts,
    'vim',
    true,
    (m) => said.push(m),
  );
  assert.deepEqual(plan.opens, [{ fds: [4], path: '/srv/ws/in', mode: 'r' }]);
  assert.deepEqual(said.slice(0, 2), [
    'fd 2 of vim (/work/err) carried here: the command runs on a terminal there',
    "fd 3 of vim (/work/err) carried here: it shares fd 2's open file, which stays here",
  ]);
});

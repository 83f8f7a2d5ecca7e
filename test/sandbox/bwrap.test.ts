/** The sandbox layout: the host's root bound back, mounts at their paths, nothing made on the host. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapArgs, type HostView } from '../../src/sandbox/bwrap.js';

/** A host of a few directories and one symlink. */
const host: HostView = {
  kind: (p) =>
    ['/', '/home', '/home/me', '/usr', '/tmp'].includes(p)
      ? 'dir'
      : p === '/bin'
        ? 'link'
        : ['/home/me/.bashrc', '/etc'].includes(p)
          ? 'other'
          : 'missing',
  mode: (p) => (p === '/tmp' ? 0o1777 : 0o755),
  entries: (p) => ({ '/': ['bin', 'etc', 'home', 'tmp', 'usr'], '/home': ['me'], '/home/me': ['.bashrc'] })[p] ?? [],
  linkTarget: () => 'usr/bin',
  realpath: (p) => p,
};

test('an existing mount point: the root entries bound back, the mount bound over it', () => {
  const args = bwrapArgs({ binds: [{ source: '/s/mnt/0', target: '/home/me' }], chdir: '/home/me', command: ['prog'] }, host);
  assert.deepEqual(args, [
    '--symlink',
    'usr/bin',
    '/bin',
    '--dev-bind',
    '/etc',
    '/etc',
    '--dev-bind',
    '/home',
    '/home',
    '--dev-bind',
    '/tmp',
    '/tmp',
    '--dev-bind',
    '/usr',
    '/usr',
    '--bind',
    '/s/mnt/0',
    '/home/me',
    '--die-with-parent',
    '--chdir',
    '/home/me',
    '--',
    'prog',
  ]);
});

test('a missing mount point: its nearest existing directory becomes a tmpfs with its entries back', () => {
  const args = bwrapArgs(
    { binds: [{ source: '/s/mnt/0', target: '/home/me/fw/src' }], chdir: '/home/me/fw/src', command: ['prog'] },
    host,
  ).join(' ');
  assert.ok(
    args.includes(
      '--perms 0755 --tmpfs /home/me --dev-bind /home/me/.bashrc /home/me/.bashrc --dir /home/me/fw --dir /home/me/fw/src --bind ' +
        '/s/mnt/0 /home/me/fw/src',
    ),
    args,
  );
});

test('a missing top-level mount point is made in the root tmpfs; nested mounts bind parent first', () => {
  const args = bwrapArgs(
    {
      binds: [
        { source: '/s/mnt/1', target: '/ws/vendor' },
        { source: '/s/mnt/0', target: '/ws' },
      ],
      chdir: '/ws',
      command: ['prog'],
    },
    host,
  ).join(' ');
  assert.ok(!args.includes('--tmpfs'), 'the root is already a tmpfs');
  assert.ok(args.includes('--dir /ws --dir /ws/vendor --bind /s/mnt/0 /ws --bind /s/mnt/1 /ws/vendor'), args);
});

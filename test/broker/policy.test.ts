/** Where an intercepted command runs, and as what: the [sandbox] lists and the mount mapping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandPolicy, shebangTarget, toRemote } from '../../src/broker/policy.js';
import type { ShimRequest } from '../../src/broker/wire.js';

const mounts = [
  { local: '/home/me/fw', remote: '/home/builder/fw' },
  { local: '/home/me/fw/vendor', remote: '/opt/sdk' },
];

test('local paths map through the longest mount that holds them', () => {
  assert.equal(toRemote('/home/me/fw', mounts), '/home/builder/fw');
  assert.equal(toRemote('/home/me/fw/src/a.c', mounts), '/home/builder/fw/src/a.c');
  assert.equal(toRemote('/home/me/fw/vendor/inc', mounts), '/opt/sdk/inc');
  assert.equal(toRemote('/home/me/fwx', mounts), undefined, 'a sibling with the same prefix is outside');
  assert.equal(toRemote('/tmp', mounts), undefined);
});

test('the program a #! line names: the interpreter, or what env runs', () => {
  assert.equal(shebangTarget('#!/bin/sh'), '/bin/sh');
  assert.equal(shebangTarget('#! /usr/bin/python3 -u'), '/usr/bin/python3');
  assert.equal(shebangTarget('#!/usr/bin/env node'), 'node');
  assert.equal(shebangTarget('#!/usr/bin/env -S FOO=1 deno run'), 'deno');
  assert.equal(shebangTarget('#!'), undefined);
});

const request = (over: Partial<ShimRequest>): ShimRequest => ({
  token: '',
  path: '/usr/bin/git',
  cwd: '/home/me/fw/src',
  shebang: '',
  fds: [],
  ignored: [],
  pipes: [],
  files: [],
  argv: ['git', 'status'],
  env: { PATH: '/usr/bin:/bin' },
  ...over,
});

test('default remote: listed commands stay local, the rest go remote with cwd mapped', async () => {
  const decide = commandPolicy({
    sandbox: { default: 'remote', local_commands: ['node', '/usr/bin/jq', '/^\\/opt\\/local\\//'], remote_commands: [] },
    mounts,
    stubDir: '/s/bin',
    workspace: '/home/builder/fw',
  });
  assert.deepEqual(await decide(request({})), { where: 'remote', argv: ['git', 'status'], cwd: '/home/builder/fw/src' });
  assert.deepEqual(await decide(request({ path: '/usr/bin/node', argv: ['node'] })), { where: 'local', path: '/usr/bin/node' });
  assert.deepEqual(await decide(request({ path: '/usr/bin/jq', argv: ['jq'] })), { where: 'local', path: '/usr/bin/jq' });
  assert.equal(
    (await decide(request({ path: '/usr/local/bin/jq', argv: ['jq'] }))).where,
    'remote',
    'an absolute pattern is that path only',
  );
  assert.equal((await decide(request({ path: '/opt/local/x', argv: ['x'] }))).where, 'local');
  // Inside a mount: the remote path; outside every mount the cwd is the workspace.
  assert.deepEqual(await decide(request({ path: '/home/me/fw/build.sh', argv: ['./build.sh', '-j4'], cwd: '/tmp' })), {
    where: 'remote',
    argv: ['/home/builder/fw/build.sh', '-j4'],
    cwd: '/home/builder/fw',
  });
});

test('a #! script is decided by its interpreter; a remote-only stub always goes remote', async () => {
  const decide = commandPolicy({
    sandbox: { default: 'remote', local_commands: ['python3', 'node'], remote_commands: [] },
    mounts,
    stubDir: '/s/bin',
    workspace: '/w',
  });
  assert.equal((await decide(request({ path: '/home/me/fw/tool.py', shebang: '#!/usr/bin/python3' }))).where, 'local');
  assert.equal((await decide(request({ path: '/home/me/fw/tool.sh', shebang: '#!/bin/sh' }))).where, 'remote');
  assert.equal((await decide(request({ path: '/home/me/fw/cli.js', shebang: '#!/usr/bin/env node' }))).where, 'local');
  assert.deepEqual(await decide(request({ path: '/s/bin/node', argv: ['node'] })), {
    where: 'remote',
    argv: ['node'],
    cwd: '/home/builder/fw/src',
  });
});

test('default local: only remote_commands go remote', async () => {
  const decide = commandPolicy({
    sandbox: { default: 'local', local_commands: [], remote_commands: ['make', 'git'] },
    mounts,
    stubDir: '/s/bin',
    workspace: '/w',
  });
  assert.equal((await decide(request({}))).where, 'remote');
  assert.deepEqual(await decide(request({ path: '/usr/bin/ls', argv: ['ls'] })), { where: 'local', path: '/usr/bin/ls' });
});

test('a PATH stub or a self re-exec (busybox) is decided by argv[0]', async () => {
  const decide = commandPolicy({
    sandbox: { default: 'remote', local_commands: ['sh'], remote_commands: [] },
    mounts,
    stubDir: '/s/bin',
    workspace: '/w',
  });
  assert.deepEqual(await decide(request({ path: '', argv: ['sh', '-c', 'x'] })), { where: 'local', path: '/usr/bin/sh' });
  assert.deepEqual(await decide(request({ path: '/proc/self/exe', argv: ['cat', 'f'] })), {
    where: 'remote',
    argv: ['cat', 'f'],
    cwd: '/home/builder/fw/src',
  });
  assert.deepEqual(
    await decide(request({ path: '', argv: ['only-remote-xyz'] })),
    { where: 'remote', argv: ['only-remote-xyz'], cwd: '/home/builder/fw/src' },
    'missing here: the remote PATH finds it',
  );
});

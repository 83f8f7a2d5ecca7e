/** A loaded profile's runtime values: numbers once, mounts complete, remote `~` kept until connected. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProfile } from '../../src/profile/load.js';
import { cwdMount, mountsOn, settingsOf } from '../../src/profile/runtime.js';
import { tempTree } from '../helpers/tmp.js';

function load(root: string, file = 'p.toml') {
  const r = loadProfile(file, {
    cwd: root,
    home: '/home/tester',
    env: { MPROXY_SYSTEM_CONFIG: join(root, 'none.toml'), MPROXY_USER_CONFIG: join(root, 'none.toml') },
  });
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.profile !== undefined);
  return r.profile;
}

test('durations in ms and sizes in bytes, written or defaulted', (t) => {
  const root = tempTree(t, {
    'p.toml': '[target]\nuri = "local"\nop_timeout = "1m30s"\nkeepalive = "250ms"\n[recording]\nmax_size = "2MiB"\n',
    'q.toml': '[target]\nuri = "local"\n',
  });
  const written = settingsOf(load(root));
  assert.equal(written.opTimeoutMs, 90_000);
  assert.equal(written.keepaliveMs, 250);
  assert.equal(written.recordingMaxBytes, 2 * 1024 * 1024);
  const defaulted = settingsOf(load(root, 'q.toml'));
  assert.deepEqual(
    [defaulted.connectTimeoutMs, defaulted.keepaliveMs, defaulted.opTimeoutMs, defaulted.recordingMaxBytes],
    [10_000, 15_000, 20_000, 512 * 1024 * 1024],
  );
});

test('every mount complete: local path expanded or taken from the remote, the schema defaults filled in', (t) => {
  const root = tempTree(t, {
    'p.toml':
      '[target]\nuri = "local"\n[[mounts]]\nremote = "~/fw"\nlocal = "~/src/fw"\n[[mounts]]\nremote = "/srv/data"\nread_only = true\n' +
      'cache_ttl = "5s"\nowner = "remote"\n',
  });
  const { mounts } = settingsOf(load(root));
  assert.deepEqual(mounts, [
    { remote: '~/fw', local: '/home/tester/src/fw', readOnly: false, owner: 'local', ttlMs: 1000, allowOther: false },
    { remote: '/srv/data', local: '/srv/data', readOnly: true, owner: 'remote', ttlMs: 5000, allowOther: false },
  ]);
  assert.deepEqual(
    mountsOn(settingsOf(load(root)), '/home/builder').map((m) => m.remote),
    ['/home/builder/fw', '/srv/data'],
  );
});

test('without mounts, the current directory on both sides with the same defaults', () => {
  assert.deepEqual(cwdMount('/work/x'), {
    remote: '/work/x',
    local: '/work/x',
    readOnly: false,
    owner: 'local',
    ttlMs: 1000,
    allowOther: false,
  });
});

/** `--intercept path` (the fallback without the tracer): commands by name go remote; by path they stay here, as documented. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { IN_CI } from '../harness/system.js';
import { leftovers, LOCAL_OS, sshTarget } from './up-backends.js';

const target = sshTarget('node');
test('PATH interception: by name remote, by absolute path local', {
  skip: target.missing !== undefined && !IN_CI ? target.missing : false,
}, async () => {
  const { profile, home } = await target.start();
  const sessions = mkdtempSync(join(tmpdir(), 'mproxy-up-sessions-'));
  try {
    const script = 'cat /etc/os-release | grep PRETTY_NAME; /bin/cat /etc/os-release | /bin/grep PRETTY_NAME';
    const r = spawnSync(process.execPath, [MPROXY_BIN, 'up', profile, '--intercept', 'path', '--', 'bash', '-c', script], {
      cwd: home,
      env: testEnv({ HOME: home, TMPDIR: sessions }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const [byName = '', byPath = ''] = r.stdout.split('\n');
    assert.ok(byName.includes(target.remoteOs), r.stdout);
    assert.ok(byPath.includes(LOCAL_OS), r.stdout);
    assert.deepEqual(leftovers(sessions), []);
  } finally {
    rmdirSync(sessions);
    await target.stop();
  }
});

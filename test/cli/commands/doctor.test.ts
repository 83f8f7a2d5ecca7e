/** `mproxy doctor`: every check with its fix; with a profile, the tier and what it cannot do. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMproxy, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';
import { clientHome } from '../../harness/ssh-client.js';
import { startSshd } from '../../harness/sshd.js';
import { requireOrSkip, sshdMissing } from '../../harness/system.js';

test('lists each local part; a missing bwrap fails with the install command', () => {
  const r = runMproxy(['doctor'], { env: testEnv({ PATH: '/nonexistent' }) });
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /^FAIL {2}bubblewrap\s+bwrap not found on PATH\n\s+`mproxy up` cannot build its sandbox; install it: apt-get install bubblewrap$/m,
  );
  assert.match(r.stdout, /^warn {2}ssh-agent\s+SSH_AUTH_SOCK is not set$/m);
  for (const name of ['node', 'user namespaces', '/dev/fuse', 'fusermount', 'libfuse3', 'interception'])
    assert.match(r.stdout, new RegExp(`^(ok  |warn|FAIL)  ${name.replace('/', '\\/')} `, 'm'));
});

test('with a profile: the target and its tier', (t) => {
  const r = runMproxy(['doctor', 'profiles/local.toml'], { env: testEnv({ HOME: tempTree(t, {}) }) });
  assert.match(r.stdout, /^ok {4}target\s+local: linux\/\w+, user \w+, tier agent$/m);
});

test('an agentless target states what its tier cannot do', async (t) => {
  const missing = sshdMissing();
  if (!requireOrSkip(t, missing)) return;
  const sshd = await startSshd({ withoutNode: true });
  try {
    const home = clientHome(sshd);
    const profile = join(home.home, 'old.toml');
    writeFileSync(profile, `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n`);
    const r = runMproxy(['doctor', profile], { cwd: home.home, env: testEnv({ HOME: home.home }) });
    assert.match(r.stdout, /tier agentless/);
    assert.match(r.stdout, /^warn {2}tier agentless\s+no extra-fds\n\s+an SSH session carries stdin, stdout and stderr only/m);
    assert.match(r.stdout, /no inodes\n\s+SFTP reports no inode numbers/);
    assert.doesNotMatch(r.stdout, /no pty|non-utf8/, 'agentless SSH has ptys (from sshd) and byte paths (through sh)');
  } finally {
    await sshd.stop();
  }
});

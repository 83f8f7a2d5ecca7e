/** connect(): the profile's op_timeout reaches the agent client, so a stalled agent fails file operations at it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { connect } from '../../src/runner/connect.js';
import { profileFrom } from '../harness/profile.js';

test("a file operation on a stopped agent fails at the profile's op_timeout, not a fixed 30 s", async () => {
  const host = await connect(profileFrom('[target]\nuri = "local"\nop_timeout = "1s"\n'), {
    home: tmpdir(),
    env: process.env,
    cwd: tmpdir(),
  });
  // The local agent is our child: stop it, ask, let it go.
  const agent = spawnSync('pgrep', ['-P', String(process.pid), '-f', 'mproxy-agent'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter((p) => p !== '');
  assert.equal(agent.length, 1, 'the local agent was found');
  process.kill(Number(agent[0]), 'SIGSTOP');
  const started = Date.now();
  try {
    await assert.rejects(host.fs.call('lstat', Buffer.from('/')), { code: 'ETIMEDOUT' });
    const ms = Date.now() - started;
    assert.ok(ms >= 900 && ms < 3000, `failed after ${ms} ms`);
  } finally {
    process.kill(Number(agent[0]), 'SIGCONT');
    await host.close();
  }
});

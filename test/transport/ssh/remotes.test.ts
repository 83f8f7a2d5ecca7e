/**
 * The ssh target against remotes of their own (each test starts its sshd): no node, no
 * sha256sum, a login shell that never runs the command, a busy session limit, a full disk.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentBundle, ptyHelper } from '../../../src/remote/agent/bundle.js';
import { sh } from '../../conformance/run.js';
import { clientHome, connectHarness } from '../../harness/ssh-client.js';
import { startSshd, TEST_USER } from '../../harness/sshd.js';
import { requireOrSkip, sshdMissing } from '../../harness/system.js';
import { errorCode } from '../../helpers/errors.js';
import { alive, waitUntil, within } from '../../helpers/wait.js';

const missing = sshdMissing();

describe('ssh target: remotes that cannot run the agent', {
  skip: missing !== undefined && process.env['CI'] !== 'true' ? missing : false,
}, () => {
  test('a remote without node: agent = "node" says so; auto works agentless', async (t) => {
    if (!requireOrSkip(t, missing)) return;
    const sshd = await startSshd({ withoutNode: true });
    try {
      await assert.rejects(
        connectHarness(sshd, clientHome(sshd), 'node'),
        errorCode('E_AGENT_START', /agent = "node", but \S+@127\.0\.0\.1:\d+ has no node/),
      );
      const said: string[] = [];
      const host = await connectHarness(sshd, clientHome(sshd), 'auto', { verbose: (m) => said.push(m) });
      assert.equal(host.info().tier, 'agentless');
      assert.match(said.join('\n'), /probing \S+ \(no cached agent\)/);
      assert.match(said.join('\n'), /tier agentless on (\S+) \(\1 has no node\)/);
      await host.close();
    } finally {
      await sshd.stop();
    }
  });

  test('a remote without sha256sum: a damaged cached agent and pty helper are still found and replaced', async (t) => {
    if (!requireOrSkip(t, missing)) return;
    const sshd = await startSshd({ withoutSha256sum: true });
    try {
      const home = clientHome(sshd);
      await (await connectHarness(sshd, home)).close();
      const dir = `/home/${TEST_USER}/.cache/mproxy`;
      const helper = ptyHelper();
      const cached = [agentBundle(), ...(helper !== undefined ? [helper] : [])];
      for (const f of cached) writeFileSync(join(dir, f.cacheName), 'garbage that is not what its name says', { mode: 0o700 });
      const said: string[] = [];
      const host = await connectHarness(sshd, home, 'auto', { verbose: (m) => said.push(m) });
      assert.equal(host.info().tier, 'agent');
      assert.match(said.join('\n'), /uploading the agent/);
      if (helper !== undefined) assert.match(said.join('\n'), /uploading the pty helper/);
      for (const f of cached) assert.ok(readFileSync(join(dir, f.cacheName)).equals(f.bytes), `${f.cacheName} replaced`);
      await host.close();
    } finally {
      await sshd.stop();
    }
  });

  test('a login shell that never runs the command: connecting fails at op_timeout, on both tiers', async (t) => {
    if (!requireOrSkip(t, missing)) return;
    const sshd = await startSshd({ stallingLogin: true });
    try {
      for (const agent of ['auto', 'none'] as const) {
        const started = Date.now();
        await assert.rejects(
          connectHarness(sshd, clientHome(sshd), agent, { opTimeoutMs: 1500 }),
          errorCode('E_TIMEOUT', /did not finish within 2s.*login script/s),
        );
        assert.ok(Date.now() - started < 1500 + 3000, `${agent}: failed after ${Date.now() - started} ms`);
      }
    } finally {
      await sshd.stop();
    }
  });

  test('agentless, every session busy: Ctrl-C still reaches a command; dropped connections leave the pool', async (t) => {
    if (!requireOrSkip(t, missing)) return;
    // Two sessions per connection: 8 connections hold 16 commands at most.
    const sshd = await startSshd({ maxSessions: 2 });
    const host = await connectHarness(sshd, clientHome(sshd), 'none');
    try {
      let started = 0;
      const procs = Array.from({ length: 16 }, (_, i) => {
        const p = host.exec({ argv: ['sh', '-c', `echo started ${i}; sleep 30`], env: {}, cwd: '/' });
        p.stdin.end();
        p.stdout.once('data', () => started++);
        return p;
      });
      const first = procs[0];
      assert.ok(first !== undefined);
      // Full: every connection the pool may open is open, and each command given a session runs.
      const saturated = (): boolean =>
        sshd.processes(/^sshd: \S+ \[priv\]$/).length >= 8 && started >= 8 && sshd.processes(/^sleep 30$/).length === started;
      await waitUntil('the pool full, every session busy', saturated, { timeoutMs: 20_000 });
      const sent = Date.now();
      first.signal('SIGINT');
      const outcome = await within(first.exited, 10_000, 'the command ending on Ctrl-C');
      assert.deepEqual(outcome, { code: null, signal: 'SIGINT' });
      assert.ok(Date.now() - sent < 5000, `ended after ${Date.now() - sent} ms`);
      for (const p of procs.slice(1)) p.signal('SIGKILL');
      await Promise.all(procs.slice(1).map((p) => Promise.race([p.exited.catch(() => undefined), sleep(15_000)])));
      const r = await sh(host, 'echo the pool is free again');
      assert.equal(r.stdout.toString().trim(), 'the pool is free again');
      // Connections of the pool that drop (all but the first, which holds SFTP) leave it: the next
      // command runs on a new one instead of failing on a dead one.
      const connections = sshd
        .processes(/^sshd: \S+ \[priv\]$/)
        .map((p) => p.pid)
        .sort((a, b) => a - b);
      assert.ok(connections.length >= 3, `several connections: ${connections.join(',')}`);
      for (const pid of connections.slice(1)) sshd.killTree(pid);
      await waitUntil('the dropped connections gone', () => connections.slice(1).every((pid) => !alive(pid)));
      for (let i = 0; i < 3; i++)
        assert.equal((await sh(host, `echo after the drop ${i}`)).stdout.toString().trim(), `after the drop ${i}`);
    } finally {
      await host.close();
      await sshd.stop();
    }
  });

  test('a full remote disk during upload: a clear error, no partial agent left', async (t) => {
    if (!requireOrSkip(t, missing)) return;
    const sshd = await startSshd({ fullCache: true });
    try {
      await assert.rejects(
        connectHarness(sshd, clientHome(sshd)),
        errorCode('E_AGENT_START', /uploading the agent .* failed: .*No space left on device/s),
      );
    } finally {
      await sshd.stop();
    }
  });
});

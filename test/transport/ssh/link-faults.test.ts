/**
 * The SSH target when the link or the remote side fails under it: the agent killed, the
 * connection cut mid-transfer, a stalled SFTP server; each fails within its deadline and the
 * next call reconnects, on both tiers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collect } from '../../conformance/run.js';
import { clientHome, connectHarness } from '../../harness/ssh-client.js';
import { startSshd, type Sshd } from '../../harness/sshd.js';
import { requireOrSkip, sshdMissing } from '../../harness/system.js';
import { errorCode } from '../../helpers/errors.js';
import { alive, waitUntil } from '../../helpers/wait.js';

const missing = sshdMissing();

describe('ssh target: link failures', { skip: missing !== undefined && process.env['CI'] !== 'true' ? missing : false }, () => {
  let sshd: Sshd;
  before(async (t) => {
    if (!requireOrSkip(t as never, missing)) return;
    sshd = await startSshd();
  });
  after(async () => sshd?.stop());

  test('the agent killed mid-command: the command fails with a clear error; the next call starts a new agent', async () => {
    const home = clientHome(sshd);
    const host = await connectHarness(sshd, home);
    const proc = host.exec({ argv: ['sleep', '30'], env: {}, cwd: '/' });
    proc.stdin.end();
    await waitUntil('the command running on the remote', () => sshd.processes(/^sleep 30$/).length > 0);
    assert.ok(sshd.killBelow(/mproxy\/agent-/) > 0, 'found the agent to kill');
    await assert.rejects(proc.exited, errorCode('E_CONNECTION_LOST', /closed/));
    assert.match(Buffer.from(await host.fs.call('getwd')).toString(), /^\//);
    await host.close();
  });

  test('the connection cut mid-transfer: the transfer fails within the deadline', async () => {
    const home = clientHome(sshd);
    const host = await connectHarness(sshd, home, 'auto', { keepaliveMs: 5000 });
    const proc = host.exec({ argv: ['cat', '/dev/zero'], env: {}, cwd: '/' });
    proc.stdin.end();
    let received = 0;
    proc.stdout.on('data', (d: Buffer) => (received += d.length));
    await waitUntil('the transfer under way', () => received > 1 << 20);
    // The per-connection sshd processes carry the TCP connection: killing them cuts the link.
    assert.ok(sshd.killBelow() > 0);
    const started = Date.now();
    await assert.rejects(proc.exited, errorCode('E_CONNECTION_LOST'));
    assert.ok(Date.now() - started < 5000);
    // The next operations reconnect first, then succeed.
    const again = host.exec({ argv: ['cat', '/etc/os-release'], env: {}, cwd: '/' });
    again.stdin.end();
    const [out, status] = await Promise.all([collect(again.stdout), again.exited]);
    assert.equal(status.code, 0);
    assert.match(out.toString(), /mproxy test remote/);
    assert.ok(Buffer.from(await host.fs.call('getwd')).length > 0);
    await host.close();
  });

  test('agentless: a stalled SFTP server fails a file operation at op_timeout, then serves again', async () => {
    const host = await connectHarness(sshd, clientHome(sshd), 'none', { opTimeoutMs: 1500 });
    try {
      const home = Buffer.from(`/home/${sshd.user}`);
      assert.equal((await host.fs.call('lstat', home)).mode & 0o170000, 0o040000);
      assert.ok(sshd.signalBelow('SIGSTOP', /@internal-sftp/) > 0, 'the sftp server was found and stopped');
      const started = Date.now();
      try {
        const outcome = await Promise.race([
          host.fs.call('lstat', home).then(
            () => 'answered',
            (err: Error & { code?: string }) => err.code,
          ),
          sleep(10_000).then(() => 'still waiting after 10 s'),
        ]);
        assert.equal(outcome, 'ETIMEDOUT');
        assert.ok(Date.now() - started < 1500 + 1000, `failed after ${Date.now() - started} ms`);
      } finally {
        sshd.signalBelow('SIGCONT', /@internal-sftp/);
      }
      assert.equal((await host.fs.call('lstat', home)).mode & 0o170000, 0o040000);
    } finally {
      await host.close();
    }
  });

  test('the agentless tier reconnects too', async () => {
    const home = clientHome(sshd);
    const host = await connectHarness(sshd, home, 'none');
    assert.equal(host.info().tier, 'agentless');
    const connections = sshd.processes(/^sshd: /).map((p) => p.pid);
    assert.ok(sshd.killBelow() > 0);
    await waitUntil('the cut connections gone', () => connections.every((pid) => !alive(pid)));
    const p = host.exec({ argv: ['echo', 'back'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
    p.stdin.end();
    const [out, status] = await Promise.all([collect(p.stdout), p.exited]);
    assert.equal(status.code, 0);
    assert.equal(out.toString(), 'back\n');
    await host.close();
  });
});

/**
 * Forwards across a dropped link, on the harness sshd: every SSH connection is cut while
 * `mproxy forward` runs; it reconnects, new connections through the to-remote forward work, the
 * to-local listener is made again on the new link, and the command goes on running.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RemoteHost } from '../../src/remote/host.js';
import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { IN_CI, sshdMissing } from '../harness/system.js';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { waitUntil, within } from '../helpers/wait.js';
import { remoteOutput } from './remote-servers.js';

const missing = sshdMissing();

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = netConnect(port, '127.0.0.1');
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.on('end', () => resolve(got));
    c.on('error', reject);
    c.end(text);
  });
}

/** A request from the remote to its own loopback port, answered through the to-local forward. */
const fromRemote = (host: RemoteHost, port: number): Promise<string> =>
  remoteOutput(host, `node -e "const c=require('net').connect(${port},'127.0.0.1',()=>c.end('from there'));c.pipe(process.stdout)"`);

describe('forwards across a dropped link', { skip: missing !== undefined && !IN_CI ? missing : false }, () => {
  let sshd: Sshd;
  let host: RemoteHost;
  before(async () => {
    if (missing !== undefined) throw new Error(missing);
    sshd = await startSshd();
    host = await connectHarness(sshd, clientHome(sshd));
  });
  after(async () => {
    await host?.close();
    await sshd?.stop();
  });

  test('every SSH connection cut: mproxy forward reconnects, both directions work again, it keeps running', async () => {
    const home = clientHome(sshd).home;
    const rp = await freePort();
    // The remote echo server leaves sshd's process tree (setsid, orphaned): cutting the sessions leaves it up.
    const echo = `require('net').createServer({allowHalfOpen:true},(c)=>c.pipe(c)).listen(${rp},'127.0.0.1')`;
    const file = `/tmp/mproxy-echo-${rp}.js`;
    await remoteOutput(
      host,
      `echo ${Buffer.from(echo).toString('base64')} | base64 -d > ${file}; setsid node ${file} </dev/null >/dev/null 2>&1 &`,
    );
    await waitUntil('the remote echo server', () =>
      remoteOutput(host, `grep -c ':${rp.toString(16).toUpperCase()} 00000000:0000 0A' /proc/net/tcp`).then(
        () => true,
        () => false,
      ),
    );
    const local = createServer({ allowHalfOpen: true }, (c) => c.pipe(c)).listen(0, '127.0.0.1');
    await new Promise((r) => local.once('listening', r));
    const lport = (local.address() as { port: number }).port;
    const [lp, back] = [await freePort(), await freePort()];
    const profile = join(home, 'fwd.toml');
    writeFileSync(
      profile,
      `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n[[forwards]]\nlocal = ${lp}\nremote = ${rp}\n` +
        `[[forwards]]\nremote = ${back}\nlocal = ${lport}\ndirection = "to-local"\n`,
    );
    const child = spawn(process.execPath, [MPROXY_BIN, 'forward', profile], {
      env: testEnv({ HOME: home }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitUntil('the forwards up', () => err.includes('press Ctrl-C'), { timeoutMs: 20_000 });
      assert.equal(await roundTrip(lp, 'before the cut'), 'before the cut');
      assert.equal(await fromRemote(host, back), 'from there');
      assert.ok(sshd.killBelow(/^sshd: /) > 0, 'the connections were cut');
      const again = async (f: () => Promise<string>, want: string): Promise<boolean> =>
        f().then(
          (got) => got === want,
          () => false,
        );
      await waitUntil('the to-remote forward working again', () => again(() => roundTrip(lp, 'after the cut'), 'after the cut'), {
        timeoutMs: 20_000,
        everyMs: 250,
      });
      await waitUntil('the to-local forward listening again', () => again(() => fromRemote(host, back), 'from there'), {
        timeoutMs: 20_000,
        everyMs: 250,
      });
      assert.equal(child.exitCode, null, `mproxy forward is still running: ${err}`);
    } finally {
      child.kill('SIGINT');
      await within(new Promise((r) => child.once('exit', r)), 10_000, 'mproxy forward ending').catch(() => child.kill('SIGKILL'));
      local.close();
      await remoteOutput(host, `pkill -f mproxy-echo-${rp}.js; rm -f /tmp/mproxy-echo-${rp}.js`).catch(() => undefined);
    }
  });
});

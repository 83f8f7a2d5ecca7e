/**
 * `mproxy forward` end to end against every target that can forward (local, ssh with the agent
 * and agentless, docker with the agent), with real servers on both sides: a remote HTTP server
 * serving a file only the remote has, a local one reached from the remote, Unix sockets both
 * ways, 200 connections at once byte-exact, and a port already taken. Docker without the agent
 * says it cannot.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { connect as netConnect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadProfile } from '../../src/profile/load.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { connect } from '../../src/runner/connect.js';
import { IN_CI } from '../harness/system.js';
import { MPROXY_BIN, runMproxy, testEnv } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { waitUntil, within } from '../helpers/wait.js';
import { dockerTarget, localTarget, sshTarget, type UpTarget } from '../runner/up-backends.js';
import { echoServer, fileServer, remoteOutput, unixRequest } from './remote-servers.js';

const TARGETS: (() => UpTarget)[] = [localTarget, () => sshTarget('node'), () => sshTarget('none'), () => dockerTarget('node')];

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Sends `data` through a local connection to `to` (a port or a socket path) and collects what comes back. */
function roundTrip(to: number | string, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = typeof to === 'number' ? netConnect(to, '127.0.0.1') : netConnect(to);
    const parts: Buffer[] = [];
    c.on('data', (d: Buffer) => parts.push(d));
    c.on('end', () => resolve(Buffer.concat(parts)));
    c.on('error', reject);
    c.end(data);
  });
}

async function startForwarding(
  profile: string,
  home: string,
): Promise<{ child: ChildProcess; exited: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [MPROXY_BIN, 'forward', profile], {
    cwd: home,
    env: testEnv({ HOME: home }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await waitUntil(
    'the forwards up',
    () => {
      if (child.exitCode !== null) throw new Error(`mproxy forward ended: ${err}`);
      return err.includes('press Ctrl-C');
    },
    { timeoutMs: 30_000 },
  );
  return { child, exited, stderr: () => err };
}

for (const make of TARGETS) {
  const target = make();
  describe(`mproxy forward: ${target.name}`, { skip: target.missing !== undefined && !IN_CI ? target.missing : false }, () => {
    let base = '';
    let home = '';
    let host: RemoteHost;
    let scratch = '';
    before(async () => {
      if (target.missing !== undefined) throw new Error(target.missing);
      ({ profile: base, home } = await target.start());
      const loaded = loadProfile(base, { cwd: home, home, env: testEnv({ HOME: home }) });
      assert.ok(loaded.profile !== undefined);
      host = await connect(loaded.profile, { home, cwd: home, env: testEnv({ HOME: home }) });
      scratch = (await remoteOutput(host, 'mktemp -d /tmp/mproxy-fwd.XXXXXX')).trim();
    });
    after(async () => {
      await remoteOutput(host, `rm -rf ${scratch}`).catch(() => undefined);
      await host?.close();
      await target.stop();
    });
    /** A profile extending the target's with these [[forwards]]. */
    const withForwards = (name: string, forwards: string): string => {
      const file = join(home, `${name}.toml`);
      writeFileSync(file, `extends = "${base}"\n${forwards}`);
      return file;
    };

    test('to-remote reaches a file only the remote has; to-local reaches a service only here', async () => {
      const token = randomBytes(8).toString('hex');
      await remoteOutput(host, `mkdir -p ${scratch}/www && echo "remote ${token}" > ${scratch}/www/only-remote.txt`);
      const rp = await freePort();
      const web = await fileServer(host, rp, `${scratch}/www`);
      const here = createHttp((_, res) => res.end(`from this machine ${token}\n`)).listen(0, '127.0.0.1');
      await new Promise((r) => here.once('listening', r));
      const hp = (here.address() as { port: number }).port;
      const [lp, back] = [await freePort(), await freePort()];
      const f = await startForwarding(
        withForwards(
          'http',
          `[[forwards]]\nlocal = ${lp}\nremote = ${rp}\n\n[[forwards]]\nremote = ${back}\nlocal = ${hp}\ndirection = "to-local"\n`,
        ),
        home,
      );
      try {
        assert.match(f.stderr(), new RegExp(`forwarding 127\\.0\\.0\\.1:${lp} → remote 127\\.0\\.0\\.1:${rp}`));
        assert.equal(await (await fetch(`http://127.0.0.1:${lp}/only-remote.txt`)).text(), `remote ${token}\n`);
        assert.equal(await remoteOutput(host, `busybox wget -qO- http://127.0.0.1:${back}/`), `from this machine ${token}\n`);
      } finally {
        f.child.kill('SIGINT');
        assert.equal(await within(f.exited, 10_000, 'mproxy forward ending on Ctrl-C'), 0);
        await web.stop();
        here.close();
      }
    });

    test('Unix sockets both ways', async () => {
      const remoteSock = `${scratch}/echo.sock`;
      const echo = await echoServer(host, { path: remoteSock });
      const localSock = join(home, `here-${process.pid}.sock`);
      const localEcho = createServer({ allowHalfOpen: true }, (c) => c.pipe(c)).listen(join(home, 'svc.sock'));
      await new Promise((r) => localEcho.once('listening', r));
      const f = await startForwarding(
        withForwards(
          'unix',
          `[[forwards]]\nlocal = "${localSock}"\nremote = "${remoteSock}"\n\n` +
            `[[forwards]]\nremote = "${scratch}/back.sock"\nlocal = "${join(home, 'svc.sock')}"\ndirection = "to-local"\n`,
        ),
        home,
      );
      try {
        assert.equal((await roundTrip(localSock, Buffer.from('through a socket there'))).toString(), 'through a socket there');
        assert.equal(await unixRequest(host, `${scratch}/back.sock`, 'and one here'), 'and one here');
      } finally {
        f.child.kill('SIGINT');
        await within(f.exited, 10_000, 'mproxy forward ending');
        await echo.stop();
        localEcho.close();
      }
    });

    test('200 connections at once, 1 MiB each way, byte-exact', async () => {
      const rp = await freePort();
      const echo = await echoServer(host, { port: rp });
      const lp = await freePort();
      const f = await startForwarding(withForwards('many', `[[forwards]]\nlocal = ${lp}\nremote = ${rp}\n`), home);
      try {
        const sent = Array.from({ length: 200 }, () => randomBytes(1 << 20));
        const back = await Promise.all(sent.map((d) => roundTrip(lp, d)));
        assert.deepEqual(back.map(sha), sent.map(sha));
      } finally {
        f.child.kill('SIGINT');
        await within(f.exited, 10_000, 'mproxy forward ending');
        await echo.stop();
      }
    });

    test('a port already taken here: said at the profile line, exit 125, nothing left listening', async () => {
      const taken = createServer().listen(0, '127.0.0.1');
      await new Promise((r) => taken.once('listening', r));
      const port = (taken.address() as { port: number }).port;
      const free = await freePort();
      const file = withForwards('busy', `[[forwards]]\nlocal = ${free}\nremote = 1234\n\n[[forwards]]\nlocal = ${port}\nremote = 1235\n`);
      const r = runMproxy(['forward', file], { cwd: home, env: testEnv({ HOME: home }) });
      taken.close();
      assert.equal(r.code, 125, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`busy\\.toml:7:9: error: forwards\\[1\\]\\.local: cannot listen at 127\\.0\\.0\\.1:${port}: it is in use here`),
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      const check = createServer().listen(free, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        check.once('listening', resolve);
        check.once('error', reject);
      });
      check.close();
    });
  });
}

const bare = dockerTarget('busybox');
describe('mproxy forward: docker agentless', { skip: bare.missing !== undefined && !IN_CI ? bare.missing : false }, () => {
  after(() => bare.stop());
  test('without the agent there is nobody to open sockets: said, with the fix, exit 125', async () => {
    if (bare.missing !== undefined) throw new Error(bare.missing);
    const { profile, home } = await bare.start();
    const file = join(home, 'fwd.toml');
    writeFileSync(file, `extends = "${profile}"\n[[forwards]]\nlocal = ${await freePort()}\nremote = 80\n`);
    const r = runMproxy(['forward', file], { cwd: home, env: testEnv({ HOME: home }) });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /fwd\.toml:\d+:\d+: error: forwards\[0\]: cannot forward: .*need the agent/);
    assert.match(r.stderr, /hint: install Node\.js >= 18/);
  });
});

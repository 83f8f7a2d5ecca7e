/**
 * A mount over a real sshd when things go wrong: an agent that stops answering makes reads fail
 * with EIO at the deadline (never a hang) and the mount serves again once it answers; a cut
 * link fails the read in progress and the next one reconnects.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountAll, type Mounted } from '../../src/mount/mount.js';
import { agentBundle } from '../../src/remote/agent/bundle.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { sh } from '../conformance/run.js';
import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { requireOrSkip, sshdMissing } from '../harness/system.js';
import { waitUntil } from '../helpers/wait.js';

const OP_TIMEOUT = 2000;

/** A local command, asynchronously (this process serves the mount), with how long it took. */
function local(script: string): Promise<{ code: number | null; err: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('/bin/sh', ['-c', script], { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, err, ms: Date.now() - started }));
  });
}

const missing = sshdMissing();
describe('a mount over ssh when the link fails', { skip: missing !== undefined && process.env['CI'] !== 'true' ? missing : false }, () => {
  let sshd: Sshd;
  let host: RemoteHost;
  let mounted: Mounted | undefined;
  let mnt = '';
  before(async (t) => {
    if (!requireOrSkip(t as never, missing)) return;
    sshd = await startSshd();
    host = await connectHarness(sshd, clientHome(sshd), 'auto', { keepaliveMs: 5000 });
    const remote = `/home/${sshd.user}/faults`;
    const made = await sh(
      host,
      `rm -rf ${remote}; mkdir -p ${remote} && cd ${remote} && head -c 64M /dev/zero > big && for i in 1 2 3 4 5 6; do echo ` +
        `"file $i" > f$i; done`,
    );
    assert.equal(made.code, 0, made.stderr.toString());
    mnt = join(mkdtempSync(join(tmpdir(), 'mproxy-faults-')), 'mnt');
    mounted = await mountAll(host, [{ remote, local: mnt, readOnly: false, owner: 'local', ttlMs: 100, allowOther: false }], {
      opTimeoutMs: OP_TIMEOUT,
    });
  });
  after(async () => {
    await mounted?.unmount();
    if (mnt !== '') rmdirSync(join(mnt, '..'));
    await host?.close();
    await sshd?.stop();
  });

  test('an agent that stops answering: EIO at the deadline, then served again once it answers', async () => {
    assert.equal((await local(`cat ${mnt}/f1`)).code, 0);
    // This server's agent only: other test files run agents of their own meanwhile.
    const agent = new RegExp(agentBundle().cacheName.replace(/\./g, '\\.'));
    assert.equal(sshd.signalBelow('SIGSTOP', agent), 1);
    let stalled: Awaited<ReturnType<typeof local>>;
    try {
      // Not f2: reading f1 fetched its small siblings ahead, and those are served from memory.
      stalled = await local(`tail -c 100 ${mnt}/big > /dev/null`);
    } finally {
      sshd.signalBelow('SIGCONT', agent);
    }
    assert.notEqual(stalled.code, 0);
    assert.match(stalled.err, /Input\/output error/);
    assert.ok(stalled.ms < OP_TIMEOUT + 3000, `failed after ${stalled.ms} ms`);
    const again = await local(`cat ${mnt}/f3`);
    assert.equal(again.code, 0, again.err);
  });

  test('a file open across a reconnect is opened again by path and reads on', async () => {
    // Open once (fd 0 of the group), read a little, cut the link while idle, read the rest.
    const child = spawn('/bin/sh', ['-c', `exec 3<&0; { head -c 100 > /dev/null; echo opened >&2; read _ <&3; wc -c; } < ${mnt}/big`]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const reading = new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
    await waitUntil('the file open and partly read', () => err.includes('opened'));
    assert.ok(sshd.killBelow() > 0);
    child.stdin.end('\n');
    const r = await reading;
    assert.equal(r.code, 0);
    assert.ok(Number(r.out.trim()) > 60 * 1024 * 1024, r.out);
    // The harness's own commands need the link back too: a call made in the instant before the
    // cut is noticed fails with it (as in-flight calls do), and the next case starts with one.
    await waitUntil('the harness link back', () =>
      sh(host, 'true').then(
        (x) => x.code === 0,
        () => false,
      ),
    );
  });

  test('the link cut mid-read: that read ends within the deadline (read on, or EIO), the next reconnects', async () => {
    // A file no earlier case read (nothing of it in the page cache). The reader takes 1 MiB and
    // says so, then stalls on a full pipe until the cut is made: the cut falls mid-file for sure.
    const file = `/home/${sshd.user}/faults/cut-me`;
    const made = await sh(host, `head -c 32M /dev/urandom > ${file} && sha256sum < ${file}`);
    assert.equal(made.code, 0, made.stderr.toString());
    const want = made.stdout.toString().split(' ')[0];
    const started = Date.now();
    const reader = `exec 3<&0; { cat ${mnt}/cut-me || echo "cat failed" >&2; } | `;
    const stalls = '{ dd bs=1048576 count=1 iflag=fullblock status=none; echo one-mib >&2; read _ <&3; cat; } | sha256sum';
    const child = spawn('/bin/sh', ['-c', reader + stalls], { env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const oneMib = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('one-mib')) resolve();
      });
    });
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
    await oneMib;
    assert.equal(child.exitCode, null, 'the read is still in progress at the cut');
    assert.ok(sshd.killBelow() > 0, 'a connection was cut');
    child.stdin.end('\n');
    await ended;
    const ms = Date.now() - started;
    // Read on over a new connection (every byte arrives, in order), or that read fails with EIO; never a hang.
    if (/Input\/output error/.test(err)) assert.match(err, /cat failed/);
    else assert.equal(out.split(' ')[0], want, `the bytes after the cut are the file's (${err})`);
    assert.ok(ms < OP_TIMEOUT + 5000, `ended after ${ms} ms`);
    const after = await local(`cat ${mnt}/f4 && ls ${mnt}`);
    assert.equal(after.code, 0, after.err);
  });
});

/**
 * The agent starts plain execs through its native helper (`mproxy-pty --spawner`) instead of
 * Node's spawn: the same results — output, exit codes, signals, scripts without #!, missing
 * programs and directories, many at once — and when the helper is gone, execs still run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RemoteHost } from '../../src/remote/host.js';
import { connectLocal } from '../../src/runner/connect.js';
import { runRemote, sh } from '../conformance/run.js';
import { tempTree } from '../helpers/tmp.js';

describe("the agent's fast spawn", () => {
  let host: RemoteHost & { close(): Promise<void> };
  before(async () => {
    host = await connectLocal();
  });
  after(() => host.close());

  test('a plain exec is started by the spawner, in a session of its own', async () => {
    const r = await sh(host, 'tr "\\0" " " < /proc/$PPID/cmdline; echo; ps -o pid=,pgid=,sid= -p $$');
    assert.match(r.stdout.toString(), /mproxy-pty --spawner \n/);
    const [pid, pgid, sid] = r.stdout.toString().split('\n')[1]?.trim().split(/\s+/) ?? [];
    assert.ok(pid !== undefined && pid === pgid && pid === sid, r.stdout.toString());
  });

  test('stdin, stdout, stderr, cwd, env and the exit code', async () => {
    const r = await runRemote(host, ['sh', '-c', 'read x; echo "$x $V $(pwd)"; echo e >&2; exit 7'], {
      input: 'in\n',
      env: { PATH: '/usr/bin:/bin', V: 'v' },
      cwd: '/tmp',
    });
    assert.deepEqual([r.stdout.toString(), r.stderr.toString(), r.code, r.signal], ['in v /tmp\n', 'e\n', 7, null]);
  });

  test('stdin and stdout are pipes: /dev/stdin and /dev/stdout can be opened by name', async () => {
    const r = await sh(host, 'cat /dev/stdin > /dev/stdout; readlink /proc/self/fd/0', { input: 'through a pipe\n' });
    assert.match(r.stdout.toString(), /^through a pipe\npipe:\[\d+\]\n$/);
  });

  test('death by a signal is reported as that signal', async () => {
    const r = await sh(host, 'kill -TERM $$');
    assert.deepEqual([r.code, r.signal], [null, 'SIGTERM']);
  });

  test('a signal sent the moment the exec is asked for still reaches the program', async () => {
    const proc = host.exec({ argv: ['sleep', '30'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
    proc.signal('SIGTERM');
    proc.stdin.end();
    const status = await Promise.race([proc.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref())]);
    assert.deepEqual(status, { code: null, signal: 'SIGTERM' });
  });

  test('an executable without #! runs with /bin/sh, as execvp does', async (t) => {
    const dir = tempTree(t, { 'plain-script': 'echo "ran as $0"\n' });
    await sh(host, `chmod +x ${dir}/plain-script`);
    const r = await runRemote(host, [`${dir}/plain-script`]);
    assert.equal(r.stdout.toString(), `ran as ${dir}/plain-script\n`);
  });

  test('a missing program, a non-executable and a missing directory fail as with any spawn', async (t) => {
    const dir = tempTree(t, { 'not-exec': '#!/bin/sh\n' });
    await assert.rejects(runRemote(host, ['no-such-program-mproxy']), (err: Error & { code?: string }) => /not found/.test(err.message));
    await assert.rejects(runRemote(host, [`${dir}/not-exec`]), (err: Error) => /permission denied/.test(err.message));
    await assert.rejects(runRemote(host, ['true'], { cwd: `${dir}/missing` }), (err: Error) => /missing/.test(err.message));
  });

  test('a hundred at once, each with its own output', async () => {
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => sh(host, `echo ${i}; exit ${i % 5}`)));
    all.forEach((r, i) => assert.deepEqual([r.stdout.toString(), r.code], [`${i}\n`, i % 5]));
  });

  test("a fast program's whole output arrives, however soon it exits", async () => {
    const r = await runRemote(host, ['head', '-c', '300000', '/dev/zero']);
    assert.equal(r.stdout.length, 300000);
  });

  test("the spawner killed: later execs still run (through Node's spawn)", async () => {
    // Only this agent's spawner (the parent of this sh): other tests run at the same time. This
    // command's own end is then never reported, so it fails with an error.
    await assert.rejects(sh(host, 'kill $PPID; sleep 1'), /the agent's spawn helper exited/);
    const r = await sh(host, 'echo still; tr "\\0" " " < /proc/$PPID/cmdline');
    assert.match(r.stdout.toString(), /^still\n/);
    assert.doesNotMatch(r.stdout.toString(), /--spawner/);
  });
});

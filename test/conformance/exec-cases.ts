/** Conformance: processes. The same cases run against every backend and tier. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import type { LimitedFeature, RemoteHost } from '../../src/remote/host.js';
import { within } from '../helpers/wait.js';
import { collect, hashOf, runRemote, sh } from './run.js';

export interface Backend {
  readonly host: () => RemoteHost;
  /**
   * Runs the assertions that need `feature`. Where the tier declares it cannot do it, they run
   * as a subtest that must fail (the gap is real; a declared gap that works is a stale
   * declaration), and only they: the rest of the case is asserted as usual.
   */
  readonly gap: (t: TestContext, feature: LimitedFeature, assertions: () => Promise<void>) => Promise<void>;
  /** A scratch directory on the remote, empty at the start, for this backend's cases. */
  readonly scratch: () => string;
}

const BIG = Number(process.env['MPROXY_CONFORMANCE_BIG'] ?? 1024 * 1024 * 1024);

export function execCases(b: Backend): void {
  test('exit codes pass through', async () => {
    for (const code of [0, 1, 3, 42, 255]) assert.equal((await sh(b.host(), `exit ${code}`)).code, code);
  });

  test('death by signal is reported as the signal', async () => {
    const r = await sh(b.host(), 'kill -TERM $$');
    assert.equal(r.code, null);
    assert.equal(r.signal, 'SIGTERM');
  });

  test('a command that does not exist fails to start, naming itself', async () => {
    await assert.rejects(
      runRemote(b.host(), ['/no/such/command-xyz']),
      (err: Error & { code?: string }) => err.code === 'E_COMMAND_NOT_FOUND' && /command-xyz/.test(err.message),
    );
  });

  test('stdin reaches the process and its EOF ends it', async () => {
    const r = await runRemote(b.host(), ['cat'], { input: 'hello\nworld\n' });
    assert.equal(r.stdout.toString(), 'hello\nworld\n');
    assert.equal(r.code, 0);
  });

  test('input for a process that closed its stdin is dropped; the connection stays up', async () => {
    const proc = b.host().exec({ argv: ['/bin/sh', '-c', 'exec <&-; sleep 0.3; exit 3'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = setInterval(() => proc.stdin.write(chunk), 10);
    const status = await proc.exited.finally(() => clearInterval(pump));
    proc.stdin.end();
    assert.equal(status.code, 3);
    assert.equal((await sh(b.host(), 'exit 5')).code, 5);
  });

  test('stdout and stderr stay separate', async () => {
    const r = await sh(b.host(), 'echo out; echo err >&2; echo out2');
    assert.equal(r.stdout.toString(), 'out\nout2\n');
    assert.equal(r.stderr.toString(), 'err\n');
  });

  test('binary data through stdin and stdout is byte-exact, several flow-control windows of it', async () => {
    const data = Buffer.alloc(24 * 1024 * 1024 + 7);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const r = await runRemote(b.host(), ['cat'], { input: data });
    assert.ok(r.stdout.equals(data));
  });

  test(`${BIG >> 20} MiB through stdout, byte-exact`, async () => {
    const file = `${b.scratch()}/big.bin`;
    const made = await sh(b.host(), `head -c ${BIG} /dev/urandom > ${file} && sha256sum ${file}`);
    assert.equal(made.code, 0, made.stderr.toString());
    const expected = made.stdout.toString().split(' ')[0];
    const proc = b.host().exec({ argv: ['cat', file], env: {}, cwd: '/' });
    proc.stdin.end();
    const [got, status] = await Promise.all([hashOf(proc.stdout), proc.exited]);
    await sh(b.host(), `rm -f ${file}`);
    assert.equal(status.code, 0);
    assert.equal(got.bytes, BIG);
    assert.equal(got.sha256, expected);
  });

  test('the environment is exactly the one given', async () => {
    const env = { A: '1', WITH_SPACE: 'a b', EMPTY: '', UNICODE: 'é✓' };
    const r = await runRemote(b.host(), ['/usr/bin/env'], { env });
    const lines = r.stdout
      .toString()
      .split('\n')
      .filter((l) => l !== '')
      .sort();
    assert.deepEqual(
      lines,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
    );
  });

  test('the working directory is the one given', async () => {
    const r = await runRemote(b.host(), ['/bin/sh', '-c', 'pwd -P'], { cwd: b.scratch() });
    const real = (await runRemote(b.host(), ['/bin/sh', '-c', `cd ${b.scratch()} && pwd -P`])).stdout.toString();
    assert.equal(r.stdout.toString(), real);
  });

  test('a process that ignores SIGTERM is killed by SIGKILL', async () => {
    const proc = b
      .host()
      .exec({ argv: ['/bin/sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 1; done'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
    proc.stdin.end();
    const out = collect(proc.stdout);
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    proc.signal('SIGTERM');
    const early = await Promise.race([proc.exited.then(() => 'exited'), sleep(700).then(() => 'running')]);
    assert.equal(early, 'running', 'SIGTERM was ignored');
    proc.signal('SIGKILL');
    const status = await proc.exited;
    assert.equal(status.signal, 'SIGKILL');
    assert.match((await out).toString(), /ready/);
  });

  test('signals reach the whole process group, grandchildren included', async () => {
    const proc = b
      .host()
      .exec({ argv: ['/bin/sh', '-c', 'sleep 30 & sleep 30 & echo started; wait'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
    proc.stdin.end();
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    // SIGTERM, not SIGINT: a non-interactive shell starts background jobs with SIGINT ignored.
    proc.signal('SIGTERM');
    const status = await within(proc.exited, 5000, 'the shell and the sleeps holding its stdout ending');
    assert.equal(status.signal, 'SIGTERM');
  });

  test('50 concurrent processes each get their own output', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => sh(b.host(), `sleep 0.$((${i} % 3)); echo ${i}; exit ${i % 7}`)),
    );
    results.forEach((r, i) => {
      assert.equal(r.stdout.toString(), `${i}\n`);
      assert.equal(r.code, i % 7);
    });
  });

  test('extra fds carry data at their numbers', async (t) => {
    await b.gap(t, 'extra-fds', async () => {
      const proc = b
        .host()
        .exec({ argv: ['/bin/sh', '-c', 'echo to-three >&3; cat <&4'], env: { PATH: '/usr/bin:/bin' }, cwd: '/', fds: [3, 4] });
      proc.stdin.end();
      const three = proc.fds.get(3);
      const four = proc.fds.get(4);
      assert.ok(three !== undefined && four !== undefined);
      four.input.end('from-four\n');
      three.input.end();
      const [fromThree, stdout, status] = await Promise.all([collect(three.output), collect(proc.stdout), proc.exited]);
      assert.equal(status.code, 0);
      assert.equal(fromThree.toString(), 'to-three\n');
      assert.equal(stdout.toString(), 'from-four\n');
    });
  });

  test('a pty: `tty` names a terminal, `stty size` sees the size, a resize is seen', async (t) => {
    await b.gap(t, 'pty', async () => {
      const script = 'tty; stty size; trap "stty size; exit 7" WINCH; echo ready; while :; do sleep 0.1; done';
      const proc = b.host().exec({
        argv: ['/bin/sh', '-c', script],
        env: { PATH: '/usr/bin:/bin', TERM: 'xterm' },
        cwd: '/',
        pty: { cols: 100, rows: 30, term: 'xterm' },
      });
      let out = '';
      let resized = false;
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (!resized && out.includes('ready')) {
          resized = true;
          proc.resize(132, 43);
        }
      });
      const status = await within(proc.exited, 10_000, `the resize ending the script (it printed ${JSON.stringify(out)})`);
      assert.equal(status.code, 7);
      assert.match(out, /^\/dev\/pts\/\d+\r?$/m);
      assert.match(out, /^30 100\r?$/m);
      assert.match(out, /^43 132\r?$/m);
    });
  });

  test('a pty: Ctrl-C typed at it interrupts the program, and exit codes pass through', async (t) => {
    await b.gap(t, 'pty', async () => {
      const pty = { cols: 80, rows: 24, term: 'xterm' };
      const proc = b.host().exec({ argv: ['/bin/sh', '-c', 'echo ready; exec sleep 30'], env: { PATH: '/usr/bin:/bin' }, cwd: '/', pty });
      // Typed once the program runs (it said so): before its exec, the shell itself dies of it the same way.
      await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
      proc.stdin.write('\x03');
      const status = await within(proc.exited, 10_000, 'the program ending on Ctrl-C');
      assert.equal(status.signal, 'SIGINT');
      const plain = b.host().exec({ argv: ['/bin/sh', '-c', 'exit 9'], env: {}, cwd: '/', pty });
      assert.equal((await plain.exited).code, 9);
    });
  });

  test('PATH query lists executables (symlinks followed), the first of each name winning', async () => {
    const dir1 = `${b.scratch()}/bin1`;
    const dir2 = `${b.scratch()}/bin2`;
    await sh(
      b.host(),
      `mkdir -p ${dir1} ${dir2}/subdir && printf '#!/bin/sh\\n' > ${dir1}/tool && printf '#!/bin/sh\\n' > ${dir2}/tool && chmod +x ` +
        `${dir1}/tool ${dir2}/tool && touch ${dir2}/not-exec && ln -s tool ${dir2}/alias && ln -s gone ${dir2}/dangling`,
    );
    const entries = await b.host().pathQuery([dir1, `${dir1}/missing`, dir2]);
    assert.deepEqual(entries.map((e) => [e.name, e.path]).sort(), [
      ['alias', `${dir2}/alias`],
      ['tool', `${dir1}/tool`],
    ]);
    const alias = entries.find((e) => e.name === 'alias')?.mode ?? 0;
    assert.equal(alias & 0o170000, 0o100000, 'what the symlink runs: a regular file');
    assert.notEqual(alias & 0o111, 0);
  });
}

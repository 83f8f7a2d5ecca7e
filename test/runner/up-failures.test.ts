/**
 * `mproxy up` failing at each startup step, and interrupted during one: the step is named with
 * the reason and a fix, the exit status says mproxy failed (125; 127 for a program missing
 * here; 130 for Ctrl-C), and nothing is left mounted, running or on disk.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { waitUntil } from '../helpers/wait.js';
import { leftovers } from './up-backends.js';

describe('mproxy up: a failed or interrupted start undoes itself', () => {
  const work = mkdtempSync(join(tmpdir(), 'mproxy-up-fail-'));
  const sessions = join(work, 'sessions');
  mkdirSync(sessions);
  const remote = join(work, 'remote');
  mkdirSync(remote);
  after(() => spawnSync('rm', ['-r', '--one-file-system', work]));

  const profile = (name: string, text: string): string => {
    const file = join(work, `${name}.toml`);
    writeFileSync(file, text);
    return file;
  };
  const up = (file: string, program: readonly string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [MPROXY_BIN, 'up', file, '--', ...program], {
      cwd: work,
      env: testEnv({ HOME: work, TMPDIR: sessions, ...env }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.deepEqual(leftovers(sessions), [], 'nothing left behind');
    return r;
  };
  const mounted = (extra = ''): string =>
    `[target]\nuri = "local"\n${extra}\n[[mounts]]\nremote = "${remote}"\nlocal = "${join(work, 'view')}"\n`;

  test('connecting fails: the step, the reason, a fix', () => {
    const r = up(profile('closed', '[target]\nuri = "ssh://nobody@127.0.0.1:1"\nconnect_timeout = "5s"\n'), ['true']);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /Connect to ssh:\/\/nobody@127\.0\.0\.1:1 failed: /);
    assert.match(r.stderr, /hint: /);
  });

  test('mounting fails: a remote directory that does not exist', () => {
    const r = up(profile('nodir', '[target]\nuri = "local"\n[[mounts]]\nremote = "/nonexistent/mproxy-up-test"\n'), ['true']);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /Mount the workspace failed: cannot mount \/nonexistent\/mproxy-up-test/);
  });

  test('the recording cannot be created: the reason and a fix, before the program runs', () => {
    const r = up(profile('badrec', mounted('[recording]\nmode = "commands"\npath = "/dev/null/rec.cbor"')), ['sh', '-c', 'echo ran']);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /Build the sandbox failed: cannot create the recording \/dev\/null\/rec\.cbor: /);
    assert.match(r.stderr, /hint: \[recording\] path must name a file/);
    assert.doesNotMatch(r.stdout, /ran/);
  });

  test('the disk fills up mid-session: a warning, and the program runs on to its end', (t) => {
    const small = join(work, 'small');
    mkdirSync(small);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]).status, 0, 'a tiny tmpfs');
    t.after(() => spawnSync('umount', [small]));
    // wc runs here, so the 2 MB come through this machine (and the recording) instead of a pipe joined there.
    const recorded = `[recording]\nmode = "full"\npath = "${small}/rec.cbor"\n[sandbox]\nlocal_commands = ["wc"]`;
    const r = up(profile('fullrec', mounted(recorded)), ['sh', '-c', 'head -c 2000000 /dev/zero | wc -c; echo after']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '2000000\nafter\n', 'the output is whole');
    assert.match(r.stderr, /warning: recording to .*rec\.cbor stopped: ENOSPC.*; the session goes on unrecorded/);
    assert.equal((r.stderr.match(/warning: recording/g) ?? []).length, 1, 'said once');
  });

  test('the program is missing here: 127, after everything started is undone', () => {
    const r = up(profile('ok', mounted()), ['no-such-program-xyz']);
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, /no-such-program-xyz: command not found here/);
  });

  test('bwrap is missing: said plainly with how to install it', () => {
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['fusermount3', 'sh'])
      symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
    const r = up(profile('ok', mounted()), ['/bin/true'], { PATH: bin });
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /bwrap \(bubblewrap\) is not installed/);
    assert.match(r.stderr, /apt-get install bubblewrap/);
  });

  test('Ctrl-C while connecting: 130, promptly, nothing left', async () => {
    // A server that accepts and never speaks SSH: the connection hangs until its timeout.
    let reached = false;
    const silent = createServer(() => {
      reached = true;
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const file = profile('silent', `[target]\nuri = "ssh://nobody@127.0.0.1:${port}"\nconnect_timeout = "60s"\n`);
      const child = spawn(process.execPath, [MPROXY_BIN, 'up', file, '--', 'true'], {
        cwd: work,
        env: testEnv({ HOME: work, TMPDIR: sessions }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitUntil('mproxy connecting to the silent server', () => reached);
      const sent = Date.now();
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 130, stderr);
      assert.ok(Date.now() - sent < 5000, 'stopped promptly');
      assert.match(stderr, /interrupted \(SIGINT\) during startup/);
      assert.deepEqual(leftovers(sessions), []);
    } finally {
      silent.close();
    }
  });

  test("Ctrl-C as the program ends: the cleanup finishes and the status is the program's", async () => {
    const child = spawn(process.execPath, [MPROXY_BIN, 'up', profile('ending', mounted()), '--verbose', '--', 'sh', '-c', 'exit 3'], {
      cwd: work,
      env: testEnv({ HOME: work, TMPDIR: sessions }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      // The mount is gone: the session directory and the connection are still being closed.
      if (!/unmounted/.test(stderr) && /unmounted/.test((stderr += d.toString()))) child.kill('SIGINT');
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    assert.match(stderr, /unmounted/);
    assert.deepEqual([code, signal], [3, null], stderr);
    assert.deepEqual(leftovers(sessions), []);
  });

  test('after all of it, the local mount point was never created', () => {
    assert.throws(() => rmdirSync(join(work, 'view')), /ENOENT/);
  });
});

/**
 * `mproxy exec` through a live session, as a user meets it: the installed bin (a symlink to
 * bin/mproxy, as npm makes it) finds the `mproxy mount` of the same profile file and runs the
 * command over its connection — output, status, stdin, signals, terminal and environment filter
 * as a cold `exec` gives them — and connects afresh where no session answers.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { liveSocket } from '../../src/util/live-socket.js';
import { MPROXY_BIN, REPO_ROOT, testEnv } from '../helpers/cli.js';
import { waitUntil, within } from '../helpers/wait.js';
import { clientHome, type ClientHome } from '../harness/ssh-client.js';
import { REMOTE_OS, startSshd, type Sshd } from '../harness/sshd.js';
import { IN_CI, requireOrSkip, sshdMissing } from '../harness/system.js';

interface Session {
  readonly child: ChildProcess;
  /** What it said on stderr so far (it runs with --verbose). */
  said(): string;
}

/** Sessions of the running test, stopped (and their mounts undone) before its directory goes. */
const running = new Set<ChildProcess>();

/** A temporary directory; after the test: its sessions stopped, its mount undone, then it is removed. */
function fixture(t: TestContext): string {
  const base = join(tmpdir(), 'mproxy-live-');
  const root = mkdtempSync(base);
  t.after(async () => {
    for (const child of running) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGINT');
      await within(exited(child), 15_000, 'the session stopping').catch(() => child.kill('SIGKILL'));
    }
    running.clear();
    spawnSync('fusermount3', ['-u', '-z', join(root, 'mnt')]);
    if (root.startsWith(base) && root.length > base.length) rmSync(root, { recursive: true, force: true });
  });
  return root;
}

/** `mproxy --verbose mount PROFILE …` until it says it is mounted. */
function startSession(profile: string, env: NodeJS.ProcessEnv, extra: readonly string[] = []): Promise<Session> {
  const child = spawn(process.execPath, [MPROXY_BIN, '--verbose', 'mount', profile, ...extra], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let said = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('press Ctrl-C')) resolve({ child, said: () => said });
    });
    child.on('exit', (code) => reject(new Error(`mproxy mount exited ${code}: ${said}`)));
  });
}

const exited = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)));

/** The bin as npm installs it: a symlink on PATH to the package's bin/mproxy. */
function installedBin(root: string): string {
  mkdirSync(join(root, 'bin'), { recursive: true });
  const bin = join(root, 'bin', 'mproxy');
  if (!existsSync(bin)) symlinkSync(join(REPO_ROOT, 'bin', 'mproxy'), bin);
  return bin;
}

function run(bin: string, args: readonly string[], env: NodeJS.ProcessEnv, input: string | Buffer = '') {
  const r = spawnSync(bin, args, { env, input, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Waits until the session has said `what` (its stderr is read while the test's own event loop runs). */
async function said(session: Session, what: RegExp): Promise<void> {
  await waitUntil(`the session saying ${what}`, () => what.test(session.said()), { timeoutMs: 10_000 });
}

/** A local-target profile mounting `<root>/remote`, with [env] keeping MY_*. */
function localProfile(t: TestContext): { root: string; profile: string; env: NodeJS.ProcessEnv } {
  const root = fixture(t);
  mkdirSync(join(root, 'remote'));
  writeFileSync(join(root, 'remote', 'hello.txt'), 'hello\n');
  const point = join(root, 'mnt');
  const profile = join(root, 'box.toml');
  writeFileSync(
    profile,
    `[target]\nuri = "local"\n\n[env]\nkeep = ["MY_*"]\n\n[[mounts]]\nremote = "${root}/remote"\nlocal = "${point}"\n`,
  );
  return { root, profile, env: testEnv({ HOME: root }) };
}

describe('live session: local target', () => {
  test('exec runs through the mount: stdout and stderr apart, exit status, stdin byte-exact, the workspace as cwd', async (t) => {
    const { root, profile, env } = localProfile(t);
    const session = await startSession(profile, env);
    const data = randomBytes(5 * 1024 * 1024);
    const r = run(installedBin(root), ['exec', profile, '--', 'sh', '-c', 'pwd; sha256sum; echo err >&2; exit 3'], env, data);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout.toString(), `${root}/remote\n${createHash('sha256').update(data).digest('hex')}  -\n`);
    assert.equal(r.stderr, 'err\n');
    await said(session, /live session: running `sh -c pwd; sha256sum/);
  });

  test("the environment passes the profile's [env] filter; a command not there is 127 with the CLI's message", async (t) => {
    const { root, profile, env } = localProfile(t);
    const session = await startSession(profile, env);
    const bin = installedBin(root);
    const r = run(bin, ['exec', profile, '--', 'env'], { ...env, MY_NAME: 'kept', MY_TOKEN: 'secret', OTHER: 'not kept' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /^MY_NAME=kept$/m);
    assert.doesNotMatch(r.stdout.toString(), /MY_TOKEN|OTHER=/);
    const missing = run(bin, ['exec', profile, '--', 'no-such-command-here'], env);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /^mproxy: error: no-such-command-here: command not found/);
    await said(session, /live session: running `no-such-command-here`/);
  });

  test('a signal to exec reaches the command; SIGPIPE when the reader leaves', async (t) => {
    const { root, profile, env } = localProfile(t);
    await startSession(profile, env);
    const bin = installedBin(root);
    const child = spawn(
      bin,
      ['exec', profile, '--', 'sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil('the command is ready', () => out.includes('ready'), { timeoutMs: 10_000 });
    child.kill('SIGTERM');
    assert.equal(await within(exited(child), 10_000, 'exec ending'), 7);
    assert.equal(out, 'ready\ngot TERM\n');
    // `yes` on the remote is told of the reader gone and dies of SIGPIPE, as it would here.
    const piped = spawnSync('bash', ['-c', `"${bin}" exec "${profile}" -- yes | head -n 2; echo "status \${PIPESTATUS[*]}"`], {
      env,
      timeout: 30_000,
    });
    assert.equal(piped.stdout.toString(), 'y\ny\nstatus 141 0\n');
  });

  test('a terminal: the command gets a pty of the size of the terminal exec runs in', async (t) => {
    const { root, profile, env } = localProfile(t);
    await startSession(profile, env);
    const bin = installedBin(root);
    const r = spawnSync('script', ['-qec', `stty cols 101 rows 31; "${bin}" exec "${profile}" -- sh -c 'tty; stty size'`, '/dev/null'], {
      env,
      timeout: 30_000,
    });
    const text = r.stdout.toString();
    assert.match(text, /\/dev\/pts\/\d+/);
    assert.match(text, /31 101/);
  });

  test('no session answers: exec connects afresh, past a socket a killed session left; the next session takes its place', async (t) => {
    const { root, profile, env } = localProfile(t);
    const bin = installedBin(root);
    const first = await startSession(profile, env);
    first.child.kill('SIGKILL');
    await exited(first.child);
    assert.ok(existsSync(liveSocket(profile, env).path), 'a killed session leaves its socket behind');
    const cold = run(bin, ['exec', profile, '--', 'cat', 'hello.txt'], env);
    assert.equal(cold.code, 0, cold.stderr);
    assert.equal(cold.stdout.toString(), 'hello\n');
    await waitUntil('the watchdog unmounted', () => spawnSync('mountpoint', ['-q', join(root, 'mnt')]).status !== 0, { timeoutMs: 10_000 });
    const second = await startSession(profile, env);
    assert.match(second.said(), /live session: `mproxy exec` of \S+ runs through this connection/);
    const warm = run(bin, ['exec', profile, '--', 'cat', 'hello.txt'], env);
    assert.equal(warm.stdout.toString(), 'hello\n');
    await said(second, /live session: running `cat hello.txt`/);
  });

  test('the session stops while a command runs: exec says so and exits 125; the socket is gone', async (t) => {
    const { root, profile, env } = localProfile(t);
    const session = await startSession(profile, env);
    const child = spawn(installedBin(root), ['exec', profile, '--', 'sh', '-c', 'echo started; sleep 600'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await waitUntil('the command started', () => out.includes('started'), { timeoutMs: 10_000 });
    session.child.kill('SIGINT');
    assert.equal(await within(exited(child), 15_000, 'exec ending'), 125);
    assert.match(err, /mproxy: error: the live session ended while the command ran/);
    assert.equal(await exited(session.child), 0);
    assert.equal(existsSync(liveSocket(profile, env).path), false);
  });

  test('--set makes the session differ from its file: not served; a socket directory open to others is not used', async (t) => {
    const { root, profile, env } = localProfile(t);
    const bin = installedBin(root);
    const changed = await startSession(profile, env, ['--set', 'env.keep=["LANG"]']);
    assert.match(changed.said(), /live session: not served, --set/);
    const r = run(bin, ['exec', profile, '--', 'true'], env);
    assert.equal(r.code, 0, r.stderr);
    changed.child.kill('SIGINT');
    await exited(changed.child);
    assert.doesNotMatch(changed.said(), /live session: running/);

    const runtime = join(root, 'runtime');
    mkdirSync(join(runtime, 'mproxy'), { recursive: true });
    chmodSync(join(runtime, 'mproxy'), 0o777);
    const open = { ...env, XDG_RUNTIME_DIR: runtime };
    const session = await startSession(profile, open);
    assert.match(session.said(), /warning: no live session for `mproxy exec`: \S+ is not a private directory of this user/);
    const cold = run(bin, ['exec', profile, '--', 'true'], open);
    assert.equal(cold.code, 0, cold.stderr);
  });
});

describe('live session: ssh', { skip: sshdMissing() !== undefined && !IN_CI ? sshdMissing() : false }, () => {
  let sshd: Sshd;
  let home: ClientHome;
  before(async (t) => {
    if (!requireOrSkip(t as never, sshdMissing())) return;
    sshd = await startSshd();
    home = clientHome(sshd);
  });
  after(async () => sshd?.stop());

  for (const agent of ['node', 'none'] as const) {
    test(`agent = "${agent}": a client with no keys and no known_hosts is served over the session's connection`, async (t) => {
      const root = fixture(t);
      const profile = join(root, 'ssh.toml');
      writeFileSync(
        profile,
        `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\nagent = "${agent}"\n\n` +
          `[[mounts]]\nremote = "/tmp"\nlocal = "${join(root, 'mnt')}"\n`,
      );
      await startSession(profile, testEnv({ HOME: home.home }));
      const bare = testEnv({ HOME: join(root, 'nobody') });
      const bin = installedBin(root);
      const r = run(bin, ['exec', profile, '--', 'sh', '-c', 'pwd; cat /etc/os-release'], bare);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString().split('\n')[0], '/tmp');
      assert.match(r.stdout.toString(), new RegExp(REMOTE_OS.replace(/[()]/g, '\\$&')));
      const cold = run(bin, ['exec', profile, '--', 'true'], { ...bare, MPROXY_NO_SESSION: '1' });
      assert.equal(cold.code, 125, 'connecting afresh needs the keys and known_hosts that HOME lacks');
    });
  }
});

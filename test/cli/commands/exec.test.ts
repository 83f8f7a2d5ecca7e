/** `mproxy exec` as a user runs it: the built binary against the local target and a real sshd. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MPROXY_BIN, runMproxy as runMproxyIn, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';
import { clientHome, type ClientHome } from '../../harness/ssh-client.js';
import { REMOTE_OS, startSshd, type Sshd } from '../../harness/sshd.js';
import { IN_CI, requireOrSkip, sshdMissing } from '../../harness/system.js';

test('local target: stdio, exit status, 127 for a missing command, 128+N for a signal', (t) => {
  // Without mounts the command runs in the remote home, which for `local` is this HOME.
  const env = testEnv({ HOME: tempTree(t, {}) });
  const runMproxy = (args: string[], options: { input?: string } = {}) => runMproxyIn(args, { env, ...options });
  const ok = runMproxy(['exec', 'profiles/local.toml', '--', 'sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'piped\n' });
  assert.equal(ok.code, 3);
  assert.equal(ok.stdout, 'piped\n');
  assert.equal(ok.stderr, 'err\n');
  const missing = runMproxy(['exec', 'profiles/local.toml', '--', 'no-such-command-xyz']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /no-such-command-xyz: command not found/);
  assert.equal(runMproxy(['exec', 'profiles/local.toml', '--', 'sh', '-c', 'kill -TERM $$']).code, 143);
});

test("--debug traces each agent frame in and out, one line each, without the environment's values", (t) => {
  const env = testEnv({ HOME: tempTree(t, {}), MPROXY_TRACE_SECRET: 'do-not-print-me' });
  const r = runMproxyIn(['--debug', 'exec', 'profiles/local.toml', '--', 'sh', '-c', 'echo traced'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'traced\n');
  assert.match(r.stderr, /^mproxy: Inbound: .*: Hello v=\d+ caps=\[/m);
  assert.match(r.stderr, /^mproxy: Outbound: .*: Exec id=\d+ argv=\["sh", "-c", "echo traced"\] env=\{\d+ variables\}/m);
  assert.match(r.stderr, /^mproxy: Inbound: .*: Data id=\d+ s=1 d=<7 bytes>$/m);
  assert.match(r.stderr, /^mproxy: Inbound: .*: Exit id=\d+ code=0/m);
  assert.doesNotMatch(r.stderr, /do-not-print-me/);
});

/** Runs `shell` on a fresh terminal (util-linux script), as a user at a desk would. */
function onTerminal(shell: string, env: NodeJS.ProcessEnv, input = ''): { code: number | null; out: string } {
  const r = spawnSync('script', ['-qec', shell, '/dev/null'], { env, input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout };
}

const MPROXY = `${process.execPath} ${MPROXY_BIN}`;

describe('a terminal on stdin: the command gets a pty', {
  skip: spawnSync('script', ['--version']).status !== 0 && !IN_CI ? 'script (bsdutils) is missing' : false,
}, () => {
  test('of the same size, and the exit status still passes through', (t) => {
    const env = testEnv({ HOME: tempTree(t, {}), TERM: 'xterm' });
    const r = onTerminal(
      `stty rows 30 cols 100; ${MPROXY} exec profiles/local.toml -- sh -c 'tty; stty size; echo "TERM=$TERM"; exit 4'`,
      env,
    );
    assert.equal(r.code, 4, r.out);
    assert.match(r.out, /\/dev\/pts\/\d+\r\n/, 'lines end as the remote terminal ended them');
    assert.match(r.out, /30 100/);
    assert.match(r.out, /TERM=xterm/);
  });

  test('a resize of the local terminal reaches the command', (t) => {
    const dir = tempTree(t, {});
    const env = testEnv({ HOME: dir });
    // `</dev/tty`: sh gives a background job /dev/null as stdin otherwise.
    const cmd = `trap "stty size; exit 6" WINCH; touch ${dir}/ready; while :; do sleep 0.1; done`;
    const r = onTerminal(
      `stty rows 30 cols 100; ${MPROXY} exec profiles/local.toml -- sh -c '${cmd}' </dev/tty & until [ -e ${dir}/ready ]; do ` +
        `sleep 0.1; done; stty rows 40 cols 120; kill -WINCH $!; wait $!`,
      env,
    );
    assert.equal(r.code, 6, r.out);
    assert.match(r.out, /40 120/);
  });

  test('Ctrl-C typed interrupts the remote command (130)', (t) => {
    const dir = tempTree(t, {});
    const env = testEnv({ HOME: dir });
    const r = spawnSync(
      'sh',
      [
        '-c',
        `(until [ -e ${dir}/ready ]; do sleep 0.1; done; sleep 0.3; printf '\\003') | script -qec "${MPROXY} exec ` +
          `profiles/local.toml -- sh -c 'touch ${dir}/ready; exec sleep 30'" /dev/null`,
      ],
      { env, encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 130, r.stdout + r.stderr);
  });

  test('-T: no pty even on a terminal', (t) => {
    const env = testEnv({ HOME: tempTree(t, {}) });
    const r = onTerminal(`${MPROXY} exec profiles/local.toml -T -- sh -c 'tty || exit 9'`, env);
    assert.equal(r.code, 9, r.out);
  });
});

test('a working directory missing on the remote is named as such', () => {
  const r = runMproxyIn(['exec', 'profiles/local.toml', '--', 'true'], { env: testEnv({ HOME: '/nonexistent/home' }) });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /cannot run true: the working directory \/nonexistent\/home does not exist on the remote/);
});

test('usage: a command is required after --', () => {
  const r = runMproxyIn(['exec', 'profiles/local.toml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no command given/);
});

const missing = sshdMissing();
describe('mproxy exec over ssh', { skip: missing !== undefined && process.env['CI'] !== 'true' ? missing : false }, () => {
  let sshd: Sshd;
  let home: ClientHome;
  let profile: string;
  before(async (t) => {
    if (!requireOrSkip(t as never, missing)) return;
    sshd = await startSshd();
    home = clientHome(sshd);
    profile = join(home.home, 'box.toml');
    writeFileSync(profile, `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n\n[env]\nset = { FROM_PROFILE = "yes" }\n`);
  });
  after(async () => sshd?.stop());

  const exec = (args: string[], input = '') =>
    spawnSync(process.execPath, [MPROXY_BIN, 'exec', profile, '--', ...args], {
      cwd: home.home,
      env: testEnv({ HOME: home.home, SECRET_TOKEN: 'hunter2', LANG: 'C.UTF-8' }),
      input,
      encoding: 'utf8',
      timeout: 30_000,
    });

  test('the command runs on the other machine', () => {
    const r = exec(['sh', '-c', 'cat /etc/os-release; ls /srv']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(REMOTE_OS), r.stdout);
    assert.match(r.stdout, /remote-only/);
  });

  test('the environment: remote identity, kept and set variables, no secrets', () => {
    const r = exec(['env']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^HOME=/home/${sshd.user}$`, 'm'));
    assert.match(r.stdout, /^LANG=C\.UTF-8$/m);
    assert.match(r.stdout, /^FROM_PROFILE=yes$/m);
    assert.doesNotMatch(r.stdout, /SECRET_TOKEN|hunter2/);
  });

  test('a terminal on stdin: a remote pty', () => {
    const r = onTerminal(
      `stty rows 33 cols 111; ${MPROXY} exec ${profile} -- sh -c 'tty; stty size; cat /etc/os-release'`,
      testEnv({ HOME: home.home }),
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /\/dev\/pts\/\d+/);
    assert.match(r.out, /33 111/);
    assert.ok(r.out.includes(REMOTE_OS), r.out);
  });

  test('one command needs no agent: agentless unless the profile asks for the agent, with the same environment and directory', () => {
    // The agentless exec reads the login's HOME, USER, SHELL and PATH where it starts (no probe first).
    const script = 'echo "$HOME|$USER|$LOGNAME|$SHELL|$PWD|$PATH"; echo ran; exit 6';
    const run = (file: string) =>
      spawnSync(process.execPath, [MPROXY_BIN, '--verbose', 'exec', file, '--', 'sh', '-c', script], {
        cwd: home.home,
        env: testEnv({ HOME: home.home }),
        encoding: 'utf8',
        timeout: 60_000,
      });
    const r = run(profile);
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stdout, new RegExp(`^/home/${sshd.user}\\|${sshd.user}\\|${sshd.user}\\|/bin/sh\\|/home/${sshd.user}\\|/[^|]+\nran\n$`));
    assert.match(r.stderr, /tier agentless on \S+ \(one command to run: no agent needed\)/);
    const withAgent = join(home.home, 'agent.toml');
    writeFileSync(withAgent, `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\nagent = "node"\n`);
    const a = run(withAgent);
    assert.equal(a.status, 6, a.stderr);
    assert.doesNotMatch(a.stderr, /tier agentless/);
    assert.equal(a.stdout, r.stdout);
  });

  test('stdin in, exit status out', () => {
    const r = exec(['sh', '-c', 'wc -c; exit 5'], 'x'.repeat(100_000));
    assert.equal(r.status, 5);
    assert.equal(r.stdout.trim(), '100000');
  });
});

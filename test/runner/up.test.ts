/**
 * `mproxy up` end to end, as a user runs it (the built CLI), against every target: the demo,
 * each way a command can be exec'd (remote or local as configured), an agent-like Node program,
 * terminals, Ctrl-C, job control's signals, extra fds, exit statuses, the env policy, and a
 * clean state after every run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { IN_CI } from '../harness/system.js';
import { REMOTE_TOOL, REMOTE_TOOL_OUTPUT } from '../harness/sshd.js';
import { leftovers, LOCAL_OS, SEED, UP_TARGETS } from './up-backends.js';

for (const make of UP_TARGETS) {
  const target = make();
  describe(`mproxy up: ${target.name}`, { skip: target.missing !== undefined && !IN_CI ? target.missing : false }, () => {
    let profile = '';
    let home = '';
    let local = '';
    const sessionTmp = mkdtempSync(join(tmpdir(), 'mproxy-up-sessions-'));
    before(async () => {
      if (target.missing !== undefined) throw new Error(target.missing);
      ({ profile, home, local } = await target.start());
    });
    after(async () => {
      await target.stop();
      rmdirSync(sessionTmp); // empty when every run cleaned up (asserted by each test)
    });

    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
      testEnv({ HOME: home, TMPDIR: sessionTmp, LANG: 'C.UTF-8', SECRET_TOKEN: 'hunter2', ...extra });
    const up = (args: readonly string[], extra: Record<string, string> = {}) => {
      const r = spawnSync(process.execPath, [MPROXY_BIN, 'up', profile, ...args], {
        cwd: home,
        env: env(extra),
        encoding: 'utf8',
        timeout: 60_000,
        input: '',
      });
      assert.deepEqual(leftovers(sessionTmp), [], 'nothing is left mounted or running');
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const bash = (script: string, args: readonly string[] = []) => up([...args, '--', 'bash', '-c', script]);

    test('the demo: bash reads the local file, a child reads the remote one', () => {
      const mine = bash('echo "$(</etc/os-release)" | grep PRETTY_NAME');
      assert.equal(mine.code, 0, mine.stderr);
      assert.ok(mine.stdout.includes(LOCAL_OS), mine.stdout);
      const theirs = bash('cat /etc/os-release | grep PRETTY_NAME');
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.ok(theirs.stdout.includes(target.remoteOs), theirs.stdout);
      assert.ok(!existsSync(local), 'the mount point was made inside the sandbox only');
    });

    test('every way to exec goes remote unless local_commands keeps it here', () => {
      const r = bash(
        [
          'cd sub && cd .. && pwd',
          'echo "PATH lookup: $(cat /etc/os-release | grep PRETTY_NAME)"',
          'echo "absolute: $(/bin/cat /etc/os-release | grep PRETTY_NAME)"',
          'echo "script in the mount: $(./build.sh)"',
          'echo "static binary exec: $(busybox env cat /etc/os-release | grep PRETTY_NAME)"',
          `echo "local_commands: $(node -e 'process.stdout.write(require("fs").readFileSync("/etc/os-release","utf8"))' | grep ` +
            `PRETTY_NAME)"`,
        ].join('\n'),
      );
      assert.equal(r.code, 0, r.stderr);
      const line = (label: string): string => r.stdout.split('\n').find((l) => l.startsWith(`${label}:`)) ?? '';
      assert.equal(r.stdout.split('\n')[0], local, 'the program starts in the workspace');
      for (const label of ['PATH lookup', 'absolute', 'script in the mount', 'static binary exec'])
        assert.ok(line(label).includes(target.remoteOs), `${label} ran remote: ${r.stdout}`);
      assert.ok(line('local_commands').includes(LOCAL_OS), r.stdout);
    });

    test('the program via an env shebang stays local with its interpreter; its children go remote', () => {
      const script = join(home, 'agent.sh');
      writeFileSync(
        script,
        '#!/usr/bin/env bash\necho "self: $(</etc/os-release)" | grep -o "PRETTY_NAME=.*"\ncat /etc/os-release | grep PRETTY_NAME\n',
        { mode: 0o755 },
      );
      const r = up(['--', script]);
      assert.equal(r.code, 0, r.stderr);
      const [self = '', child = ''] = r.stdout.trim().split('\n');
      assert.ok(self.includes(LOCAL_OS), r.stdout);
      assert.ok(child.includes(target.remoteOs), r.stdout);
    });

    test('default = "local": only remote_commands go remote', () => {
      const r = bash('cat /etc/os-release | grep PRETTY_NAME; head -1 /etc/os-release', [
        '--set',
        'sandbox.default=local',
        '--set',
        'sandbox.remote_commands=["cat"]',
        '--set',
        'sandbox.local_commands=[]',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.split('\n')[0]?.includes(target.remoteOs), r.stdout);
      assert.ok(r.stdout.split('\n')[1]?.includes(LOCAL_OS), r.stdout);
    });

    test('a local command finds all of its input: nothing is read before it is known to run here', () => {
      const r = bash(
        'printf "%s\\n" one two three > input.txt; for i in $(seq 1 50); do cat input.txt | wc -l; done | sort | uniq -c; wc -l ' +
          '< input.txt; rm input.txt',
        ['--set', 'sandbox.local_commands=["wc"]'],
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => l.trim()),
        ['50 3', '3'],
      );
    });

    test('an agent-like Node program: its children run remote, it reads files through the mount', () => {
      const dev = target.devTools;
      const program = `
        const { execFileSync } = require('node:child_process');
        const fs = require('node:fs');
        const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8' });
        console.log('read:', fs.readFileSync('file.txt', 'utf8').trim());
        console.log('ls:', run('ls', []).split('\\n').filter(Boolean).join(','));
        ${
          dev
            ? `console.log('make:', run('sh', ['-c', 'cd sub && make']).trim());`
            : `console.log('sh:', run('sh', ['-c', 'cd ` + `sub && grep PRETTY_NAME /etc/os-release']).trim());`
        }
        ${
          dev
            ? `run('git', ['init', '-q']); run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '.']); run('git', ` +
              `['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'from node']);
        console.log('git:', run('git', ['log', '--format=%s']).trim());`
            : ''
        }
        fs.writeFileSync('written-by-node.txt', 'hello');
        console.log('back:', run('cat', ['written-by-node.txt']));
      `;
      const r = up(['--', 'node', '-e', program]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^read: data from the workspace$/m);
      assert.match(
        r.stdout,
        new RegExp(
          `^ls: ${Object.keys(SEED)
            .map((p) => p.split('/')[0])
            .sort()
            .join(',')}`,
          'm',
        ),
      );
      if (dev) {
        assert.ok(r.stdout.includes(`make: made in sub on PRETTY_NAME="${target.remoteOs}"`), r.stdout);
        assert.match(r.stdout, /^git: from node$/m);
      } else {
        assert.ok(r.stdout.includes(`sh: PRETTY_NAME="${target.remoteOs}"`), r.stdout);
      }
      assert.match(r.stdout, /^back: hello$/m);
      bash('rm -rf .git written-by-node.txt');
    });

    test('exit statuses: the code, 128+N for a signal, 127 for a command missing everywhere', () => {
      const r = bash(
        'sh -c "exit 7"; echo "code=$?"; sh -c "kill -TERM \\$\\$"; echo "signal=$?"; no-such-command-xyz; echo "missing=$?"; exit 9',
      );
      assert.equal(r.code, 9, r.stderr);
      assert.match(r.stdout, /code=7\nsignal=143\nmissing=127/);
    });

    test('the environment: secrets stay here, kept and changed variables travel', () => {
      const r = bash('export CHANGED_BY_PROGRAM=yes; env');
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /SECRET_TOKEN|hunter2/);
      assert.match(r.stdout, /^CHANGED_BY_PROGRAM=yes$/m);
      assert.match(r.stdout, /^LANG=C\.UTF-8$/m);
    });

    test('process substitution: extra fds reach the remote command', () => {
      const r = bash('diff <(printf "a\\nsame\\n") <(printf "b\\nsame\\n"); echo "diff=$?"; wc -c < <(head -c 100000 /dev/zero)');
      if (!target.agent) {
        assert.match(r.stderr, /extra file descriptors need the agent/, 'a declared gap of the agentless tier, said plainly');
        return;
      }
      assert.equal(r.code, 0, r.stderr);
      // GNU diff's normal format, or busybox's unified one.
      assert.match(r.stdout, /^(< a|-a)$/m);
      assert.match(r.stdout, /^(> b|\+b)$/m);
      assert.match(r.stdout, /^diff=1\n100000\n$/m);
    });

    test('a non-blocking stdout that fills (a parent left O_NONBLOCK on the pipe): every byte arrives, no SIGPIPE', () => {
      // A local python3 sets O_NONBLOCK on the pipe, then execs the remote command onto it; the reader is slow.
      const nonblocking =
        `import os, sys, fcntl; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK); ` +
        `os.execvp(sys.argv[1], sys.argv[1:])`;
      const r = bash(
        `/usr/bin/python3 -c '${nonblocking}' sh -c 'head -c 10000000 /dev/zero; echo status=$? >&2' | { sleep 2 </dev/null; wc ` +
          `-c; }; echo "pipe=\${PIPESTATUS[*]}"`,
        ['--set', 'sandbox.local_commands=["node", "busybox", "python3"]'],
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\s*10000000\npipe=0 0$/m);
      assert.match(r.stderr, /status=0/);
    });

    test('an exec from a thread other than the main one goes through the policy by its path, not its argv[0]', () => {
      // A local python3 execs /bin/cat from a second thread, naming it renamed-cat.
      const threaded =
        `import os, threading; threading.Thread(target=lambda: os.execv("/bin/cat", ["renamed-cat", ` +
        `"/etc/os-release"])).start(); threading.Event().wait(10)`;
      const r = bash(`/usr/bin/python3 -c '${threaded}' | grep PRETTY_NAME; echo "status=\${PIPESTATUS[0]}"`, [
        '--set',
        'sandbox.local_commands=["node", "busybox", "python3"]',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(target.remoteOs), r.stdout + r.stderr);
      assert.match(r.stdout, /^status=0$/m);
    });

    test("signals ignored here stay ignored: trap '' INT, a background job, and on the remote", () => {
      const r = bash(
        [
          `trap '' INT`,
          // Interrupted here: the shim must not pass on what its shell ignores.
          `sh -c 'sleep 1; echo survived-here' & pid=$!; sleep 0.3; kill -INT $pid; wait $pid; echo "here=$?"`,
          // Sent on the remote: the remote command inherits the ignore, as it would here.
          `sh -c 'kill -INT $$; echo survived-there'; echo "there=$?"`,
        ].join('\n'),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^survived-here\nhere=0\nsurvived-there\nthere=0$/m);
    });

    test('a terminal: remote pty of the same size; Ctrl-C reaches the remote child', () => {
      const mproxy = `${process.execPath} ${MPROXY_BIN} up ${profile}`;
      const sized = spawnSync('script', ['-qec', `stty rows 31 cols 101; ${mproxy} -- bash -c 'tty; stty size'`, '/dev/null'], {
        cwd: home,
        env: env(),
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(sized.status, 0, sized.stdout);
      assert.match(sized.stdout, /\/dev\/pts\/\d+/);
      assert.match(sized.stdout, /31 101/);
      const ready = join(sessionTmp, '..', `ready-${process.pid}-${target.name.replace(/\W/g, '')}`);
      const interrupted = spawnSync(
        'sh',
        [
          '-c',
          `(until [ -e ${ready} ]; do sleep 0.1; done; sleep 1; printf '\\003') | script -qec "${mproxy} -- bash -c ': > ` +
            `${ready}; sleep 30; echo not-interrupted'" /dev/null`,
        ],
        { cwd: home, env: env(), encoding: 'utf8', timeout: 60_000 },
      );
      spawnSync('rm', ['-f', ready]);
      assert.equal(interrupted.status, 130, interrupted.stdout);
      assert.doesNotMatch(interrupted.stdout, /not-interrupted/);
      assert.deepEqual(leftovers(sessionTmp), []);
    });
  });
}

describe('mproxy up: remote-only commands are found', {
  skip: UP_TARGETS[1]?.().missing !== undefined && !IN_CI ? 'sshd missing' : false,
}, () => {
  const target = UP_TARGETS[1]?.();
  test(`${REMOTE_TOOL} (on the remote PATH only) is found by the local shell and runs there`, async () => {
    assert.ok(target !== undefined);
    const { profile, home } = await target.start();
    const sessionTmp = mkdtempSync(join(tmpdir(), 'mproxy-up-sessions-'));
    try {
      const r = spawnSync(
        process.execPath,
        [MPROXY_BIN, 'up', profile, '--', 'bash', '-c', `command -v ${REMOTE_TOOL} >/dev/null && echo found; ${REMOTE_TOOL}`],
        { cwd: home, env: testEnv({ HOME: home, TMPDIR: sessionTmp }), encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `found\n${REMOTE_TOOL_OUTPUT}\n`);
      assert.deepEqual(leftovers(sessionTmp), []);
    } finally {
      rmdirSync(sessionTmp);
      await target.stop();
    }
  });
});

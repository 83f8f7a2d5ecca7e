/**
 * Redirections to and from the mount under `mproxy up`, on every target: where the tier can
 * (the agent), `cmd < f`, `cmd > f`, `>> f`, `2> f`, `> f 2>&1` and `3<> f` of a remote command
 * are opened by the remote itself, so the bytes stay there; what it wrote is seen here at once
 * (a local program reads it right after), and what was written here is what it reads. A file
 * another process holds open here (a brace group's redirection, `exec 4> f`) is carried as
 * before, and --verbose says why. Agentless tiers carry every fd, with the same results.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IN_CI } from '../harness/system.js';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { leftovers, UP_TARGETS } from './up-backends.js';

/** A local program (node is in local_commands) reading F through the mount: its size and sha256. */
const LOCAL_READ = (f: string): string =>
  `node -e "const b = require('fs').readFileSync('${f}'); ` +
  `console.log(b.length, require('crypto').createHash('sha256').update(b).digest('hex'))"`;

for (const make of UP_TARGETS) {
  const target = make();
  describe(`mproxy up, redirections: ${target.name}`, { skip: target.missing !== undefined && !IN_CI ? target.missing : false }, () => {
    let profile = '';
    let home = '';
    const sessionTmp = mkdtempSync(join(tmpdir(), 'mproxy-redir-sessions-'));
    before(async () => {
      if (target.missing !== undefined) throw new Error(target.missing);
      ({ profile, home } = await target.start());
    });
    after(async () => {
      await target.stop();
      rmdirSync(sessionTmp);
    });

    /** `script` run by a local bash inside `up --verbose`: its stdout, and what mproxy said of files. */
    const bash = (script: string): { stdout: string; said: string[] } => {
      const r = spawnSync(process.execPath, [MPROXY_BIN, 'up', profile, '--verbose', '--', 'bash', '-c', script], {
        cwd: home,
        env: testEnv({ HOME: home, TMPDIR: sessionTmp }),
        encoding: 'utf8',
        timeout: 180_000,
        input: '',
      });
      assert.deepEqual(leftovers(sessionTmp), [], 'nothing is left mounted or running');
      assert.equal(r.status, 0, r.stderr);
      const said = r.stderr.split('\n').filter((l) => / opened on the remote for | carried here: /.test(l));
      return { stdout: r.stdout, said };
    };
    const opened = (said: readonly string[], line: string): boolean => said.includes(`mproxy: ${line}`);

    test('> f and < f: 50 MiB written there is read back there and here, byte for byte, right after', () => {
      const r = bash(
        `head -c ${50 * 1024 * 1024} /dev/urandom > F; sha256sum < F | cut -d' ' -f1; ${LOCAL_READ('F')}; ` +
          `for i in 1 2 3 4 5 6 7 8; do env printf "round $i" > S; read -r v < S; echo "$v"; done; rm F S`,
      );
      const [there = '', here = '', ...rounds] = r.stdout.trim().split('\n');
      assert.match(there, /^[0-9a-f]{64}$/);
      assert.equal(here, `${50 * 1024 * 1024} ${there}`, 'a local program reads what the remote wrote, at once');
      assert.deepEqual(
        rounds,
        [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `round ${i}`),
        'the shell reads each new content at once',
      );
      assert.equal(opened(r.said, 'F opened on the remote for head (fd 1, w)'), target.agent, r.said.join('\n'));
      assert.equal(opened(r.said, 'F opened on the remote for sha256sum (fd 0, r)'), target.agent, r.said.join('\n'));
      if (!target.agent) assert.deepEqual(r.said, [], 'the agentless tiers carry files without a word');
    });

    test('what was written here is what the remote reads: a local program, a builtin, an append', () => {
      const r = bash(
        `node -e "process.stdout.write('x'.repeat(1000000))" > L; wc -c < L; echo tail >> L; wc -c < L; ` +
          `/bin/echo more >> L; tail -c 10 < L; ${LOCAL_READ('L')} | cut -d' ' -f1; rm L`,
      );
      assert.equal(r.stdout.replace(/^\s+/gm, ''), '1000000\n1000005\ntail\nmore\n1000010\n');
      assert.equal(opened(r.said, 'L opened on the remote for echo (fd 1, w, appending)'), target.agent, r.said.join('\n'));
    });

    test('stderr into a file, and stdout with stderr into one file in order', () => {
      const r = bash('ls /nonexistent 2> E; cat E; sh -c "echo one; echo two >&2; echo three" > O 2>&1; cat O; rm E O');
      const [error = '', ...lines] = r.stdout.trim().split('\n');
      assert.match(error, /^ls: .*nonexistent/);
      // Agentless, stdout and stderr travel as two streams: their order across the two is the remote's no more.
      assert.deepEqual(target.agent ? lines : lines.sort(), target.agent ? ['one', 'two', 'three'] : ['one', 'three', 'two']);
      assert.equal(opened(r.said, 'O opened on the remote for sh (fd 1, 2, w)'), target.agent, r.said.join('\n'));
    });

    test('a file another process holds open here is carried: each writer goes on where the last stopped', () => {
      const r = bash(
        '{ /bin/echo first; /bin/echo second; } > P; cat P; exec 4> Q; /bin/echo via4 >&4; /bin/echo next >&4; exec 4>&-; cat Q; ' +
          'sh -c "echo a; /bin/echo b; echo c" > P; cat P; rm P Q',
      );
      // Opened again there at position 0, the second writer would overwrite the first.
      assert.equal(r.stdout, 'first\nsecond\nvia4\nnext\na\nb\nc\n');
      if (target.agent) {
        const carried = (file: string): number =>
          r.said.filter((l) => l.endsWith(`/${file}) carried here: another process holds it open here`)).length;
        assert.deepEqual([carried('P'), carried('Q')], [2, 2], r.said.join('\n'));
        assert.ok(
          r.said.some((l) => l.endsWith("carried here: it shares fd 1's open file, which stays here")),
          r.said.join('\n'),
        );
        assert.ok(opened(r.said, 'P opened on the remote for sh (fd 1, w)'), r.said.join('\n'));
      }
    });

    test('a file opened read-write (3<> f): read, then written after what was read', {
      skip: !target.agent && 'agentless tiers cannot carry a read-write fd',
    }, () => {
      const r = bash('echo hello > R; sh -c "head -n 1 <&3; echo there >&3" 3<> R; cat R; rm R');
      assert.equal(r.stdout, 'hello\nhello\nthere\n');
      assert.ok(opened(r.said, 'R opened on the remote for sh (fd 3, rw)'), r.said.join('\n'));
    });
  });
}

/**
 * The pipe shortcut under `mproxy up`, on every target: a local pipeline of remote commands is
 * joined by a pipe on the remote where the tier can (the agent), and carried as before where it
 * cannot (agentless) — byte-exact either way, with each command's own exit status. A command
 * that runs here at one end, a reader that is the shell itself, and `$(...)` are never joined;
 * --verbose says which pipes were joined and why the others were not.
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

for (const make of UP_TARGETS) {
  const target = make();
  describe(`mproxy up, pipelines: ${target.name}`, { skip: target.missing !== undefined && !IN_CI ? target.missing : false }, () => {
    let profile = '';
    let home = '';
    const sessionTmp = mkdtempSync(join(tmpdir(), 'mproxy-pipes-sessions-'));
    before(async () => {
      if (target.missing !== undefined) throw new Error(target.missing);
      ({ profile, home } = await target.start());
    });
    after(async () => {
      await target.stop();
      rmdirSync(sessionTmp); // empty when every run cleaned up (asserted by each test)
    });

    /** `script` run by a local bash inside `up --verbose`: its stdout, its exit code, what mproxy said of pipes. */
    const bash = (script: string): { code: number | null; stdout: string; pipes: string[] } => {
      const r = spawnSync(process.execPath, [MPROXY_BIN, 'up', profile, '--verbose', '--', 'bash', '-c', script], {
        cwd: home,
        env: testEnv({ HOME: home, TMPDIR: sessionTmp }),
        encoding: 'utf8',
        timeout: 120_000,
        input: '',
      });
      assert.deepEqual(leftovers(sessionTmp), [], 'nothing is left mounted or running');
      assert.equal(r.status, 0, r.stderr);
      const pipes = r.stderr.split('\n').filter((l) => l.startsWith('mproxy: pipe '));
      return { code: r.status, stdout: r.stdout, pipes };
    };
    const joined = (pipes: readonly string[], pair: string): boolean => pipes.includes(`mproxy: pipe joined on the remote: ${pair}`);

    test('two and three remote commands: the same bytes as the file holds, joined where the tier can', () => {
      // 100 MiB where pipes are joined; 20 MB where every byte comes here and goes back anyway.
      const size = target.agent ? 100 * 1024 * 1024 : 20_000_000;
      const r = bash(
        `head -c ${size} /dev/urandom > F; sha256sum < F; cat F | sha256sum; cat F | tee G | sha256sum; sha256sum < G; ` +
          'cat F | wc -c; rm F G',
      );
      const sums = r.stdout
        .split('\n')
        .filter((l) => l.endsWith('  -'))
        .map((l) => l.slice(0, 64));
      assert.equal(sums.length, 4, r.stdout);
      assert.equal(new Set(sums).size, 1, `every way gives the same digest:\n${r.stdout}`);
      assert.match(r.stdout, new RegExp(`^\\s*${size}$`, 'm'));
      for (const pair of ['cat | sha256sum', 'cat | tee', 'tee | sha256sum', 'cat | wc'])
        assert.equal(joined(r.pipes, pair), target.agent, `${pair}: ${r.pipes.join('; ')}`);
      if (!target.agent) assert.deepEqual(r.pipes, [], 'the agentless tier carries pipes without a word');
    });

    test("each stage's own exit status: a failing first stage, and a reader that stops early (SIGPIPE)", () => {
      const r = bash('/bin/false | cat; echo "status ${PIPESTATUS[*]}"; yes | head -n 2; echo "status ${PIPESTATUS[*]}"');
      assert.equal(r.stdout, 'status 1 0\ny\ny\nstatus 141 0\n');
      assert.equal(joined(r.pipes, 'yes | head'), target.agent, r.pipes.join('; '));
      // Told once, not once per piece the gone reader missed: each told meant a session (agentless).
      assert.doesNotMatch(target.serverLog?.() ?? '', /no more sessions/);
    });

    test('stdout and stderr into one pipe (|&)', () => {
      const r = bash('sh -c "echo out; echo err >&2" |& sort');
      assert.equal(r.stdout, 'err\nout\n');
      assert.equal(joined(r.pipes, 'sh | sort'), target.agent, r.pipes.join('; '));
    });

    test('never joined: a command kept here, the shell reading, and $(...) — each still correct', () => {
      const r = bash(
        `/bin/echo hello | node -e 'process.stdin.pipe(process.stdout)'; ` +
          '/bin/echo hi | while read l; do echo "got $l"; done; x=$(/bin/echo sub); echo "$x"',
      );
      assert.equal(r.stdout, 'hello\ngot hi\nsub\n');
      if (!target.agent) return assert.deepEqual(r.pipes, []);
      assert.ok(r.pipes.includes('mproxy: pipe out of echo carried here: node runs here'), r.pipes.join('; '));
      assert.ok(
        r.pipes.some((l) => /^mproxy: pipe out of echo carried here: no remote command at its other end within \d+ ms$/.test(l)),
        r.pipes.join('; '),
      );
      assert.equal(r.pipes.length, 2, `$(...) waits for no partner: ${r.pipes.join('; ')}`);
    });
  });
}

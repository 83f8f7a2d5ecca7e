/**
 * `mproxy up` on a terminal (util-linux script), local target: a window resize reaches a remote
 * command, and Ctrl-Z stops the remote command and the local job so the shell's job control
 * works (jobs lists it stopped; fg continues it to its end) — also for a pipeline joined on the
 * remote, which Ctrl-C ends with each stage's status as without the shortcut.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IN_CI } from '../harness/system.js';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { leftovers } from './up-backends.js';
import { waitUntil, within } from '../helpers/wait.js';

describe('mproxy up on a terminal', {
  skip: spawnSync('script', ['--version']).status !== 0 && !IN_CI ? 'script (bsdutils) is missing' : false,
}, () => {
  const work = mkdtempSync(join(tmpdir(), 'mproxy-up-tty-'));
  const sessions = mkdtempSync(join(tmpdir(), 'mproxy-up-sessions-'));
  const profile = join(work, 'local.toml');
  writeFileSync(profile, '[target]\nuri = "local"\n');
  const env = testEnv({ HOME: work, TMPDIR: sessions, TERM: 'xterm' });
  const mproxy = `${process.execPath} ${MPROXY_BIN} up ${profile}`;
  after(() => {
    spawnSync('rm', ['-rf', '--one-file-system', work]);
    rmdirSync(sessions);
  });

  test('a resize of the terminal reaches the remote command', () => {
    const ready = join(work, 'ready');
    const remote = `sh -c 'trap "stty size; exit 6" WINCH; : > ${ready}; while :; do sleep 0.1; done'`;
    const shell =
      `stty rows 30 cols 100; ${mproxy} -- bash -c ` +
      `"${remote.replace(/"/g, '\\"')}" </dev/tty & until [ -e ${ready} ]; do sleep 0.1; done; ` +
      'sleep 0.3; stty rows 40 cols 120; pkill -WINCH -x mproxy-shim; wait $!';
    const r = spawnSync('script', ['-qec', shell, '/dev/null'], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 6, r.stdout);
    assert.match(r.stdout, /40 120/);
    assert.deepEqual(leftovers(sessions), []);
  });

  test('a local command starts with the terminal as it was, not in the raw mode a remote one gets', () => {
    // stty is kept local; the bare `stty -a` shows the modes the command found.
    const shell = `${mproxy} --set 'sandbox.local_commands=["stty"]' -- sh -c 'stty -a; stty -a </dev/tty'`;
    const r = spawnSync('script', ['-qec', shell, '/dev/null'], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout);
    const modes = r.stdout.replace(/\r/g, '');
    assert.doesNotMatch(modes, /(^|\s)-icanon(\s|$)/m, modes);
    assert.doesNotMatch(modes, /(^|\s)-echo(\s|$)/m, modes);
    assert.match(modes, /(^|\s)icanon(\s|$)/m, modes);
    assert.deepEqual(leftovers(sessions), []);
  });

  test('Ctrl-Z stops the remote command and the job; fg continues it', () => {
    const keys =
      `sleep 3; printf 'sh -c "sleep 4; echo slept-\\$((6*7))"\\n'; sleep 1.5; printf '\\032'; sleep 1; printf 'jobs; ` +
      `echo listed\\n'; sleep 1; printf 'fg\\n'; sleep 6; printf 'exit\\n'`;
    const r = spawnSync('sh', ['-c', `(${keys}) | script -qec "${mproxy} -- bash --norc --noprofile -i" /dev/null`], {
      cwd: work,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = r.stdout.replace(/\r/g, '');
    const typedJobs = out.indexOf('jobs; echo listed');
    const typedFg = out.indexOf('# fg');
    assert.ok(typedJobs > 0 && typedFg > typedJobs, out);
    assert.match(out.slice(0, typedJobs), /Stopped\s+sh -c/, `the job stopped: ${out}`);
    assert.match(out.slice(typedJobs, typedFg), /Stopped\s+sh -c[\s\S]*\nlisted/, `jobs lists it stopped: ${out}`);
    assert.ok(!out.slice(0, typedFg).includes('slept-42'), `nothing ran on while stopped: ${out}`);
    assert.match(out.slice(typedFg), /slept-42/, `fg ran it to its end: ${out}`);
    assert.deepEqual(leftovers(sessions), []);
  });

  /** Typed into an interactive bash under `up --verbose` on a terminal: what the terminal showed. */
  const typedInto = (keys: string): string => {
    const r = spawnSync('sh', ['-c', `(${keys}) | script -qec "${mproxy} --verbose -- bash --norc --noprofile -i" /dev/null`], {
      cwd: work,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return r.stdout.replace(/\r/g, '');
  };

  test('a pipeline joined on the remote: Ctrl-Z stops both stages, fg runs them to their end', () => {
    const out = typedInto(
      `sleep 3; printf 'sh -c "sleep 3; echo piped-\\$((6*7))" | cat\\n'; sleep 1.5; printf '\\032'; sleep 1; ` +
        `printf 'jobs; echo listed\\n'; sleep 1; printf 'fg\\n'; sleep 5; printf 'exit\\n'`,
    );
    const typedFg = out.indexOf('# fg');
    assert.match(out, /mproxy: pipe joined on the remote: sh \| cat/, out);
    assert.match(out.slice(0, typedFg), /Stopped\s+sh -c[\s\S]*\| cat[\s\S]*\nlisted/, `jobs lists the pipeline stopped: ${out}`);
    assert.ok(typedFg > 0 && !out.slice(0, typedFg).includes('piped-42'), `nothing ran on while stopped: ${out}`);
    assert.match(out.slice(typedFg), /piped-42/, `fg ran it to its end: ${out}`);
    assert.deepEqual(leftovers(sessions), []);
  });

  test('a pipeline joined on the remote: Ctrl-C ends both stages at once, each with its status', () => {
    const out = typedInto(
      // The interrupted line is abandoned by the shell, as without mproxy: the status is asked next.
      `sleep 3; printf 'sleep 31.5 | cat\\n'; sleep 1.5; printf '\\003'; sleep 1; printf 'echo "status \${PIPESTATUS[*]}"\\n'; ` +
        `sleep 1; printf 'exit\\n'`,
    );
    assert.match(out, /mproxy: pipe joined on the remote: sleep \| cat/, out);
    assert.match(out, /status 130 130/, out);
    assert.equal(spawnSync('pgrep', ['-f', 'sleep 31.5']).status, 1, 'no stage is left running');
    assert.deepEqual(leftovers(sessions), []);
  });

  test('Ctrl-Z on mproxy up itself, a job of an interactive shell: the prompt comes back, fg runs it to its end', () => {
    // Ctrl-Z once the program runs (it says so with a file); fg; exit once it has printed its end.
    const ready = join(work, 'job-ready');
    const done = join(work, 'job-done');
    const typed = `${mproxy} -- bash -c ": > ${ready}; sleep 4; echo slept-\\$((6*7)); : > ${done}"`;
    const until = (file: string): string => `for i in $(seq 600); do [ -e ${file} ] && break; sleep 0.1; done`;
    const keys =
      `sleep 1; printf '%s\\n' '${typed}'; ${until(ready)}; sleep 0.5; printf '\\032'; sleep 2; printf 'echo ` +
      `prompt""back\\n'; sleep 1; printf 'fg\\n'; ${until(done)}; sleep 1; printf 'exit\\n'`;
    const r = spawnSync('sh', ['-c', `(${keys}) | script -qec "bash --norc --noprofile -i" /dev/null`], {
      cwd: work,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    spawnSync('rm', ['-f', ready, done]);
    const out = r.stdout.replace(/\r/g, '');
    const back = out.indexOf('promptback');
    assert.ok(back > 0, `the shell got its prompt back: ${out}`);
    assert.match(out.slice(0, back), /Stopped\s+\S+ \S+ up /, `the job stopped: ${out}`);
    assert.ok(!out.slice(0, back).includes('slept-42'), `nothing ran on while stopped: ${out}`);
    assert.match(out.slice(back), /slept-42/, `fg ran it to its end: ${out}`);
    assert.deepEqual(leftovers(sessions), []);
  });

  test('SIGTERM to mproxy while the sandbox is stopped: passed on with SIGCONT, it ends at once, nothing left', async () => {
    const child = spawn(process.execPath, [MPROXY_BIN, 'up', profile, '--', 'bash', '-c', 'echo started; sleep 30; echo not""killed'], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitUntil('the program started', () => out.includes('started'), { timeoutMs: 20_000 });
    const bwrap =
      spawnSync('pgrep', ['-P', String(child.pid), 'bwrap'], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')[0] ?? '';
    assert.match(bwrap, /^\d+$/, 'found the sandbox');
    process.kill(Number(bwrap), 'SIGSTOP');
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await within(exited, 10_000, 'mproxy ending on SIGTERM').catch((err: unknown) => {
      process.kill(Number(bwrap), 'SIGCONT');
      throw err;
    });
    assert.equal(code, 143);
    assert.ok(Date.now() - started < 5000, `ended after ${Date.now() - started} ms`);
    assert.doesNotMatch(out, /notkilled/);
    assert.deepEqual(leftovers(sessions), []);
  });
});

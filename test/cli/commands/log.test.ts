/**
 * Recordings end to end: a `mproxy up` session with recording.mode = "full" on the local
 * target, read back with `mproxy log` — every command with its exit status, `--show` byte for
 * byte (50 concurrent commands, each attributed right), secrets redacted, the file private,
 * older recordings pruned, a file cut short read up to its end.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RECORDING_VERSION } from '../../../src/recording/records.js';
import { RecordingWriter } from '../../../src/recording/writer.js';
import { MPROXY_BIN, testEnv } from '../../helpers/cli.js';
import { leftovers } from '../../runner/up-backends.js';

/** Waits for a condition (20 s at most: never a hang). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 20_000; !check(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('mproxy up with recording.mode = "full", read by mproxy log', () => {
  const work = mkdtempSync(join(tmpdir(), 'mproxy-rec-'));
  const project = join(work, 'project');
  const sessions = join(work, 'sessions');
  const recordings = join(project, '.mproxy', 'recordings');
  let recording = '';
  const env = testEnv({ HOME: work, TMPDIR: sessions, MY_API_TOKEN: 'supersecret-value', LANG: 'C.UTF-8' });
  const mproxy = (args: readonly string[], cwd = project) =>
    spawnSync(process.execPath, [MPROXY_BIN, ...args], { cwd, env, encoding: 'buffer', timeout: 60_000 });

  before(() => {
    mkdirSync(join(project, '.mproxy'), { recursive: true });
    mkdirSync(sessions);
    writeFileSync(
      join(project, '.mproxy', 'box.toml'),
      `[target]\nuri = "local"\n[env]\nkeep = ["LANG", "MY_API_TOKEN"]\nremove = []\n[recording]\nmode = "full"\nkeep = ` +
        `2\nredact_args = ["--password", "--token", "echo:-p"]\n`,
    );
    const script = [
      'printf "one\\n"',
      'sh -c "echo to-stderr >&2; exit 3"',
      'head -c 300000 /dev/urandom > blob.bin; cat blob.bin > /dev/null',
      'for i in $(seq 1 50); do sh -c "for j in 1 2 3 4 5 6 7 8; do echo cmd-$i-line-\\$j; done" > out-$i.txt & done; wait',
      'env > /dev/null',
      // The secret printed in two writes, apart: two chunks of captured output.
      `sh -c 'v=$MY_API_TOKEN; printf "%s" "\${v%%-*}"; sleep 0.3; printf "%s\\n" "-\${v#*-}"'`,
      '/bin/echo --password=pw-value-1234 --token tok-value-5678 -pshort-pw-9012',
      'mkdir -p made/by-mkdir',
    ].join('\n');
    const r = mproxy(['up', 'box', '--', 'bash', '-c', script]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(leftovers(sessions), []);
    const files = readdirSync(recordings).filter((f) => f.endsWith('.cbor'));
    assert.equal(files.length, 1, files.join(','));
    recording = join(recordings, files[0] ?? '');
  });
  after(() => spawnSync('rm', ['-r', '--one-file-system', work]));

  const listed = (): Record<string, unknown>[] => {
    const r = mproxy(['log', recording, '--json']);
    assert.equal(r.status, 0, r.stderr.toString());
    return r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };

  test('the file is private and named after the profile; the directory is never committed', () => {
    assert.equal(statSync(recording).mode & 0o777, 0o600);
    assert.match(recording, /box-\d{8}T\d{6}Z\.cbor$/);
    assert.match(readFileSync(join(recordings, '.gitignore'), 'utf8'), /^\*$/m);
    const git = (...args: string[]) => spawnSync('git', args, { cwd: project, encoding: 'utf8' });
    assert.equal(git('init', '-q').status, 0);
    assert.equal(git('add', '-A').status, 0);
    assert.doesNotMatch(git('status', '--porcelain').stdout, /recordings/, 'git add -A leaves recordings out');
  });

  test('every remote command is listed with its exit status', () => {
    const cmds = listed();
    const argv = (c: Record<string, unknown>): string => (c['argv'] as string[]).join(' ');
    // printf is bash's own: sh, head, cat, seq, 50 × sh, env, echo, mkdir.
    assert.equal(cmds.length, 1 + 2 + 1 + 50 + 1 + 1 + 2, cmds.map(argv).join('\n'));
    const failing = cmds.find((c) => argv(c).startsWith('sh -c echo to-stderr'));
    assert.equal(failing?.['exitCode'], 3);
    assert.ok(cmds.every((c) => typeof c['durationMs'] === 'number' && typeof c['seq'] === 'number'));
    const table = mproxy(['log', recording, '--grep', 'to-stderr']).stdout.toString().split('\n').filter(Boolean);
    assert.equal(table.length, 2, 'a header and the one matching command');
    assert.match(table[1] ?? '', /^\s+\d+\s+\d\d:\d\d:\d\d\.\d{3}\s+\d+ ms\s+3\s+\S+\s+sh -c echo to-stderr/);
  });

  test("--show reproduces a command's stdout and stderr byte for byte", () => {
    const cmds = listed();
    const seqOf = (prefix: string): string => String(cmds.find((c) => (c['argv'] as string[]).join(' ').startsWith(prefix))?.['seq']);
    const err = mproxy(['log', recording, '--show', seqOf('sh -c echo to-stderr')]);
    assert.equal(err.stderr.toString(), 'to-stderr\n');
    const blob = mproxy(['log', recording, '--show', seqOf('cat blob.bin')]);
    assert.ok(blob.stdout.equals(readFileSync(join(project, 'blob.bin'))), 'binary output, exact');
    for (let i = 1; i <= 50; i++) {
      const seq = cmds.find((c) => (c['argv'] as string[])[2]?.includes(`cmd-${i}-line`) === true)?.['seq'];
      const shown = mproxy(['log', recording, '--show', String(seq)]).stdout.toString();
      assert.equal(shown, readFileSync(join(project, `out-${i}.txt`), 'utf8'), `command ${i} of 50 concurrent ones`);
    }
  });

  test('a variable matching redact never reaches the file, not even in captured output split across chunks', () => {
    assert.ok(!readFileSync(recording).includes('supersecret'));
    const split = listed().find((c) => (c['argv'] as string[]).join(' ').includes('sleep 0.3'));
    assert.equal(mproxy(['log', recording, '--show', String(split?.['seq'])]).stdout.toString(), '[redacted]\n');
    const envCmd = listed().find((c) => (c['argv'] as string[])[0] === 'env');
    assert.equal((envCmd?.['env'] as Record<string, string> | undefined)?.['MY_API_TOKEN'], '[redacted]');
  });

  test('flags in redact_args lose their values, in argv and in captured output; others stay', () => {
    const bytes = readFileSync(recording);
    for (const secret of ['pw-value-1234', 'tok-value-5678', 'short-pw-9012']) assert.ok(!bytes.includes(secret), secret);
    const cmds = listed();
    // Outside the mounts a command runs by name on the remote PATH, and is recorded so.
    const echo = cmds.find((c) => (c['argv'] as string[])[0] === 'echo');
    assert.deepEqual(echo?.['argv'], ['echo', '--password=[redacted]', '--token', '[redacted]', '-p[redacted]']);
    const shown = mproxy(['log', recording, '--show', String(echo?.['seq'])]).stdout.toString();
    assert.equal(shown, '--password=[redacted] --token [redacted] -p[redacted]\n');
    assert.deepEqual(
      cmds.find((c) => (c['argv'] as string[])[0] === 'mkdir')?.['argv'],
      ['mkdir', '-p', 'made/by-mkdir'],
      '-p is scoped to echo',
    );
  });

  test('--follow lists commands of a live session as they end, and stops with the session', async () => {
    writeFileSync(
      join(project, '.mproxy', 'live.toml'),
      `[target]\nuri = "local"\n[recording]\nmode = "commands"\npath = ".mproxy/live/{profile}.cbor"\n`,
    );
    // `read` is bash's own and waits on the session's stdin: the test decides when it goes on.
    const session = spawn(
      process.execPath,
      [MPROXY_BIN, 'up', 'live', '--', 'bash', '-c', '/bin/echo first-of-live; read go; /bin/echo second-of-live'],
      { cwd: project, env, stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let sessionErr = '';
    session.stderr.on('data', (d: Buffer) => (sessionErr += d.toString()));
    const file = join(project, '.mproxy', 'live', 'live.cbor');
    const sessionDone = new Promise<number | null>((r) => session.on('exit', (code) => r(code)));
    const follow = async (): Promise<{ out: () => string; done: Promise<number | null> }> => {
      await until(() => existsSync(file), 'the recording appears');
      const f = spawn(process.execPath, [MPROXY_BIN, 'log', file, '--follow'], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      f.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return { out: () => out, done: new Promise((r) => f.on('exit', (code) => r(code))) };
    };
    const f = await follow();
    try {
      await until(() => f.out().includes('first-of-live'), 'the first command is listed while the session runs');
      assert.ok(!f.out().includes('second-of-live'));
      session.stdin.end('go\n');
      await until(() => f.out().includes('second-of-live'), 'the second command is listed once it ran');
      assert.equal(await sessionDone, 0, sessionErr);
      assert.equal(await f.done, 0, '--follow ends with the session');
    } finally {
      session.kill('SIGKILL');
    }
  });

  test('--follow ends when the session that wrote the recording is gone without its footer', async (t) => {
    const file = join(work, 'killed.cbor');
    const w = new RecordingWriter(file, { redact: () => false, maxBytes: 1 << 20 });
    const dead = spawnSync('true').pid ?? 0;
    w.header({
      version: RECORDING_VERSION,
      profile: 'box.toml',
      profileSha256: '',
      target: 'local',
      user: 'me',
      start: Date.now(),
      host: hostname(),
      pid: dead,
    });
    w.start({ seq: 1, t: Date.now(), argv: ['make', 'forever'], cwd: '/src', env: {} });
    t.after(() => w.close());
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const f = spawn(process.execPath, [MPROXY_BIN, 'log', file, '--follow'], { cwd: project, env, timeout: 20_000 });
      let out = '';
      let err = '';
      f.stdout.on('data', (d: Buffer) => (out += d.toString()));
      f.stderr.on('data', (d: Buffer) => (err += d.toString()));
      f.on('exit', (code) => resolve({ code, out, err }));
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\s+1\s.*…\s+\/src\s+make forever$/m, 'the command still running is listed');
    assert.match(r.err, new RegExp(`the session that wrote .*killed\\.cbor \\(pid ${dead}\\) is gone without ending the recording`));
  });

  test('a recording cut short by a crash is listed up to where it ends', () => {
    const cut = join(work, 'cut.cbor');
    const bytes = readFileSync(recording);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = mproxy(['log', cut]);
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), /sh -c echo to-stderr/);
    assert.match(r.stderr.toString(), /ends early at byte \d+: the last record is cut short/);
  });

  test('a profile name reads its newest recording; no recording, or recording off, is said with a fix', () => {
    const byName = mproxy(['log', 'box', '--json']);
    assert.equal(byName.status, 0, byName.stderr.toString());
    assert.equal(byName.stdout.toString(), mproxy(['log', recording, '--json']).stdout.toString());
    assert.match(byName.stderr.toString(), /^mproxy: \.mproxy\/recordings\/box-\d{8}T\d{6}Z\.cbor, the newest recording of box\n$/);
    writeFileSync(join(project, '.mproxy', 'quiet.toml'), '[target]\nuri = "local"\n');
    const off = mproxy(['log', 'quiet']);
    assert.equal(off.status, 1);
    assert.match(off.stderr.toString(), /no recordings of profile quiet \(looked for .*\.mproxy\/recordings\/quiet-\{time\}\.cbor\)/);
    assert.match(off.stderr.toString(), /hint: recording is off for it: set \[recording\] mode = "commands" or "full"/);
    assert.equal(mproxy(['log', 'no-such-profile']).status, 1);
  });

  test('the embedded local profile records into the current project, and log finds it by name', () => {
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const r = mproxy(['up', 'local', '--set', 'recording.mode=commands', '--', 'sh', '-c', '/bin/echo hi'], elsewhere);
    assert.equal(r.status, 0, r.stderr.toString());
    const made = readdirSync(join(elsewhere, '.mproxy', 'recordings')).filter((f) => f.endsWith('.cbor'));
    assert.equal(made.length, 1, 'in the directory the session ran from');
    const listed = mproxy(['log', 'local', '--json'], elsewhere);
    assert.equal(listed.status, 0, listed.stderr.toString());
    assert.deepEqual(JSON.parse(listed.stdout.toString().trim())['argv'], ['echo', 'hi']);
  });

  test('keep = 2: older recordings of the profile are deleted', () => {
    for (let i = 0; i < 2; i++) {
      spawnSync('sleep', ['1.1']); // {time} has one-second resolution
      assert.equal(mproxy(['up', 'box', '--', 'true']).status, 0);
    }
    const files = readdirSync(recordings).filter((f) => f.endsWith('.cbor'));
    assert.equal(files.length, 2, files.join(','));
    assert.ok(!files.includes(recording.slice(recordings.length + 1)), 'the oldest went');
    rmdirSync(sessions);
    mkdirSync(sessions);
  });
});

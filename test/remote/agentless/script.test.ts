/** The agentless scripts run by a real /bin/sh here: any bytes survive, quoting cannot be broken. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execScript, killScript, octalEscaped, shQuote } from '../../../src/remote/agentless/script.js';
import { bytesVar, int } from '../../../src/remote/agentless/sh-fs-scripts.js';

const sh = (script: string) => spawnSync('/bin/sh', ['-c', script], { encoding: 'latin1' });

test('octal-escaped scripts come back byte for byte through printf %b, quotes and all', () => {
  const script = `echo "it's \\"quoted\\" \\\\ $HOME"; printf '%s\\n' 'tab\there'`;
  const r = sh(`eval "$(printf %b "${octalEscaped(script)}")"`);
  assert.equal(r.stdout, sh(script).stdout);
  assert.match(octalEscaped(script), /^(\\0[0-7]{3})+$/);
});

test('bytesVar keeps every byte but NUL, trailing newlines included', () => {
  const bytes = Buffer.from([0x66, 0xff, 0x0a, 0x27, 0x22, 0x24, 0x5c, 0x0a, 0x0a]);
  const r = spawnSync('/bin/sh', ['-c', `${bytesVar('p', bytes)}; printf '%s' "$p"`]);
  assert.ok(r.stdout.equals(bytes), r.stdout.toString('hex'));
});

test('shQuote survives single quotes', () => {
  assert.equal(sh(`printf '%s' ${shQuote("a'b'' c")}`).stdout, "a'b'' c");
});

test('execScript: exact env, cwd, argv with spaces and quotes; markers before the command', () => {
  const argv = ['/bin/sh', '-c', 'printf "%s|" "$PWD" "$ONLY" "$1"; env | wc -l', 'x', "it's"];
  const r = sh(execScript({ argv, env: { ONLY: 'a b' }, cwd: '/tmp' }, { pty: false }));
  const pid = /start:(\d+)/.exec(r.stdout)?.[1] ?? '?';
  const envLines = sh('env -i ONLY=x /bin/sh -c "env | wc -l"').stdout;
  assert.equal(r.stdout, `\u0000mproxy:start:${pid}\n/tmp|a b|it's|${envLines}`);
  assert.equal(r.stderr, '\u0000mproxy:start\n');
});

test("execScript with login: the remote's own HOME, USER, SHELL and PATH under the given env, cwd under HOME", (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mproxy-login-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, "it's here"));
  const argv = ['/bin/sh', '-c', 'printf "%s|" "$PWD" "$HOME" "$USER" "$LOGNAME" "$SHELL" "$PATH" "$KEPT"'];
  const script = execScript({ argv, env: { KEPT: 'k', USER: 'given' }, cwd: "~/it's here", login: true }, { pty: false });
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'latin1', env: { HOME: home, PATH: '/usr/bin:/bin', SHELL: '/bin/dash' } });
  const me = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
  assert.equal(r.stdout.replace(/^\u0000mproxy:start:\d+\n/, ''), `${home}/it's here|${home}|given|${me}|/bin/dash|/usr/bin:/bin|k|`);
  const atHome = spawnSync('/bin/sh', ['-c', execScript({ argv: ['pwd'], env: {}, cwd: '~', login: true }, { pty: false })], {
    encoding: 'latin1',
    env: { HOME: home, PATH: '/usr/bin:/bin' },
  });
  assert.equal(atHome.stdout.replace(/^\u0000mproxy:start:\d+\n/, ''), `${home}\n`);
});

test('execScript: a missing command or cwd is a marker and 127/126, not a shell message', () => {
  const missing = sh(execScript({ argv: ['no-such-cmd-xyz'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' }, { pty: false }));
  assert.equal(missing.status, 127);
  assert.equal(missing.stderr, '\u0000mproxy:start\n\u0000mproxy:enoent\n');
  const nocwd = sh(execScript({ argv: ['true'], env: {}, cwd: '/no/such/dir' }, { pty: true }));
  assert.equal(nocwd.status, 126);
  assert.match(nocwd.stdout, /\u0000mproxy:nocwd\n$/);
});

test('killScript refuses what is not a signal name or a pid', () => {
  assert.equal(killScript(1, 'SIGTERM'), undefined);
  assert.equal(killScript(42, 'TERM; rm -rf /'), undefined);
  assert.match(killScript(42, 'SIGTERM') ?? '', /kill -s TERM -- -\$g/);
  assert.throws(() => int(-1));
  assert.throws(() => int(1.5));
});

/**
 * The broker against connections that are not a shim, inside a real `mproxy up` session: each is
 * closed alone, and the session, its mounts and the next remote command carry on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { leftovers, localTarget } from '../runner/up-backends.js';

/** Run inside the session: finds the broker's socket and sends it what no shim sends. */
const HOSTILE = `
  const net = require('node:net');
  const fs = require('node:fs');
  const { execFileSync } = require('node:child_process');
  const dir = fs.readdirSync(process.env.SESSIONS).find((d) => d.startsWith('mproxy-'));
  const sock = process.env.SESSIONS + '/' + dir + '/broker.sock';
  const frame = (type, payload) => {
    const head = Buffer.alloc(5);
    head.writeUInt32LE(payload.length + 1);
    head[4] = type;
    return Buffer.concat([head, payload]);
  };
  const token = fs.readFileSync(process.env.SESSIONS + '/' + dir + '/token', 'utf8').trim();
  const request = (tok) => frame(1, Buffer.from([tok, '/bin/true', '/', '', '', '', '', '', '1', 'true', ''].join('\\0')));
  const huge = Buffer.alloc(8); huge.writeUInt32LE(0xffffffff); huge[4] = 1;
  const random = Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919 + 13) & 0xff));
  const attempts = {
    'a token of the right length that is not hex': request('z'.repeat(token.length)),
    'a token of the wrong length': request('00'),
    'a 4 GiB length header': huge,
    'random bytes': random,
    'input before any request': frame(2, Buffer.from([0, 65, 66])),
  };
  const send = (name, bytes) => new Promise((resolve) => {
    const c = net.connect(sock, () => c.write(bytes));
    c.on('error', () => undefined);
    c.on('close', () => { console.log('closed: ' + name); resolve(); });
    setTimeout(() => { console.log('still open: ' + name); c.destroy(); }, 5000).unref();
  });
  (async () => {
    for (const [name, bytes] of Object.entries(attempts)) await send(name, bytes);
    console.log(execFileSync('sh', ['-c', 'echo "the next command: $(cat file.txt)"'], { encoding: 'utf8' }).trim());
  })();
`;

describe('a local up session against what breaks the broker', () => {
  const target = localTarget();
  let profile = '';
  let home = '';
  const sessionTmp = mkdtempSync(join(tmpdir(), 'mproxy-broker-sessions-'));
  before(async () => ({ profile, home } = await target.start()));
  after(async () => {
    await target.stop();
    rmdirSync(sessionTmp);
  });
  const up = (program: readonly string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [MPROXY_BIN, 'up', profile, '--', ...program], {
      cwd: home,
      env: testEnv({ HOME: home, TMPDIR: sessionTmp, ...env }),
      encoding: 'utf8',
      timeout: 60_000,
      input: '',
    });

  test('a bad token, a 4 GiB length, random bytes: each connection is closed, the session goes on', () => {
    const r = up(['node', '-e', HOSTILE], { SESSIONS: sessionTmp });
    assert.equal(r.status, 0, r.stderr);
    for (const name of [
      'a token of the right length that is not hex',
      'a token of the wrong length',
      'a 4 GiB length header',
      'random bytes',
      'input before any request',
    ]) {
      assert.ok(r.stdout.includes(`closed: ${name}`), r.stdout + r.stderr);
    }
    assert.match(r.stdout, /^the next command: data from the workspace$/m);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.deepEqual(leftovers(sessionTmp), []);
  });

  test('the last resort: an error nothing caught ends the session as SIGTERM would, said once, nothing left mounted', () => {
    // A fault injected into mproxy's own process (not the agent's, not the program's) 3 s in.
    const fault = join(sessionTmp, '..', `mproxy-fault-${process.pid}.cjs`);
    writeFileSync(
      fault,
      `if (/cli\\/main\\.js$/.test(process.argv[1] ?? '')) setTimeout(() => { throw new Error('injected fault'); }, 3000);\n`,
    );
    try {
      const started = Date.now();
      const r = up(['sh', '-c', 'sleep 30; echo finished'], { NODE_OPTIONS: `--require ${fault}` });
      assert.ok(Date.now() - started < 20_000, `ended promptly (${Date.now() - started} ms)`);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /mproxy: internal error: injected fault; ending the session/);
      assert.doesNotMatch(r.stdout, /finished/);
      assert.deepEqual(leftovers(sessionTmp), []);
    } finally {
      unlinkSync(fault);
    }
  });
});

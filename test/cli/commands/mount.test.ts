/**
 * `mproxy mount` as a user runs it, against the local target: the mount appears, other programs
 * use it, and it goes away on every way out — Ctrl-C, SIGTERM, SIGKILL (the watchdog), and a
 * stale one left by a crash whose watchers died too is cleaned at the next start.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { MPROXY_BIN, runMproxy, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';
import { waitUntil, within } from '../../helpers/wait.js';

const fuseMissing = !existsSync('/dev/fuse')
  ? '/dev/fuse is missing'
  : spawnSync('sh', ['-c', 'command -v fusermount3']).status !== 0
    ? 'fusermount is missing (apt-get install fuse3)'
    : undefined;

function mountedAt(point: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === point);
}

/** A profile mounting `<root>/remote` at `<root>/mnt` (which does not exist yet). */
function setup(t: TestContext): { root: string; profile: string; point: string } {
  const root = tempTree(t, { 'remote/hello.txt': 'hello from the remote\n' });
  const point = join(root, 'mnt');
  const profile = join(root, 'ws.toml');
  writeFileSync(profile, `[target]\nuri = "local"\n\n[[mounts]]\nremote = "${root}/remote"\nlocal = "${point}"\n`);
  // Whatever happens, nothing stays mounted over the temp tree being removed.
  t.after(() => void spawnSync('fusermount3', ['-u', '-z', point]));
  return { root, profile, point };
}

function start(profile: string, root: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MPROXY_BIN, 'mount', profile], {
    env: testEnv({ HOME: root }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let said = '';
    child.stderr?.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('press Ctrl-C')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`mproxy mount exited ${code}: ${said}`)));
  });
}

const exited = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)));

describe('mproxy mount', { skip: fuseMissing !== undefined && process.env['CI'] !== 'true' ? fuseMissing : false }, () => {
  test('serves the remote directory until Ctrl-C, then unmounts and removes the mount point it made', async (t) => {
    const { root, profile, point } = setup(t);
    const child = await start(profile, root);
    assert.ok(mountedAt(point));
    assert.equal(readFileSync(join(point, 'hello.txt'), 'utf8'), 'hello from the remote\n');
    writeFileSync(join(point, 'new.txt'), 'written locally');
    assert.equal(readFileSync(join(root, 'remote/new.txt'), 'utf8'), 'written locally');
    child.kill('SIGINT');
    assert.equal(await exited(child), 0);
    assert.equal(mountedAt(point), false);
    assert.equal(existsSync(point), false, 'the mount point mproxy created is gone');
  });

  test('Ctrl-C pressed twice: the second waits for the unmount instead of cutting it short', async (t) => {
    const { root, profile, point } = setup(t);
    const child = await start(profile, root);
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGINT'), 5);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    assert.deepEqual([code, signal], [0, null]);
    assert.equal(mountedAt(point), false);
    assert.equal(existsSync(point), false, 'the mount point mproxy created is gone');
  });

  test('SIGTERM unmounts too; SIGKILL leaves it to the watchdog', async (t) => {
    const { root, profile, point } = setup(t);
    let child = await start(profile, root);
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
    assert.equal(mountedAt(point), false);
    child = await start(profile, root);
    child.kill('SIGKILL');
    await exited(child);
    await waitUntil('unmounted after mproxy was killed', () => !mountedAt(point), { timeoutMs: 5000 });
  });

  test('unmounted from outside (fusermount -u): it says so, cleans up and exits 1 at once', async (t) => {
    const { root, profile, point } = setup(t);
    const child = await start(profile, root);
    let said = '';
    child.stderr?.on('data', (d: Buffer) => (said += d.toString()));
    const started = Date.now();
    assert.equal(spawnSync('fusermount3', ['-u', point]).status, 0);
    const code = await within(exited(child), 10_000, 'mproxy mount ending');
    assert.equal(code, 1, said);
    assert.ok(Date.now() - started < 5000, `ended after ${Date.now() - started} ms`);
    assert.match(said, new RegExp(`${point} was unmounted from outside mproxy`));
    assert.equal(existsSync(point), false, 'the mount point mproxy created is gone');
  });

  test('a stale mount left by a crash (watchers dead too) is cleaned at the next start', async (t) => {
    const { root, profile, point } = setup(t);
    const child = await start(profile, root);
    // Kill whatever would clean up (fusermount's auto_unmount, our watchdog): both name the mount point.
    spawnSync('pkill', ['-KILL', '-f', point]);
    child.kill('SIGKILL');
    await exited(child);
    assert.ok(mountedAt(point), 'a stale mount is left');
    const again = await start(profile, root);
    assert.equal(readFileSync(join(point, 'hello.txt'), 'utf8'), 'hello from the remote\n');
    again.kill('SIGINT');
    assert.equal(await exited(again), 0);
    assert.equal(mountedAt(point), false);
  });

  test('read_only: reads work, every write is EROFS', async (t) => {
    const { root, profile, point } = setup(t);
    writeFileSync(profile, `${readFileSync(profile, 'utf8')}read_only = true\n`);
    const child = await start(profile, root);
    try {
      assert.equal(readFileSync(join(point, 'hello.txt'), 'utf8'), 'hello from the remote\n');
      assert.throws(() => writeFileSync(join(point, 'hello.txt'), 'no'), { code: 'EROFS' });
      assert.throws(() => writeFileSync(join(point, 'new.txt'), 'no'), { code: 'EROFS' });
      assert.throws(() => unlinkSync(join(point, 'hello.txt')), { code: 'EROFS' });
    } finally {
      child.kill('SIGINT');
      await exited(child);
    }
    assert.equal(readFileSync(join(root, 'remote/hello.txt'), 'utf8'), 'hello from the remote\n');
  });

  test('a mount point that is not empty is refused, a missing remote directory named', (t) => {
    const root = tempTree(t, { 'remote/x': 'x', 'busy/keep.txt': 'mine' });
    writeFileSync(join(root, 'a.toml'), `[target]\nuri = "local"\n\n[[mounts]]\nremote = "${root}/remote"\nlocal = "${root}/busy"\n`);
    const busy = runMproxy(['mount', join(root, 'a.toml')], { env: testEnv({ HOME: root }) });
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /busy is not empty: mounting there would hide its files/);
    writeFileSync(join(root, 'b.toml'), `[target]\nuri = "local"\n\n[[mounts]]\nremote = "${root}/nope"\nlocal = "${root}/m"\n`);
    const nope = runMproxy(['mount', join(root, 'b.toml')], { env: testEnv({ HOME: root }) });
    assert.equal(nope.code, 1);
    assert.match(nope.stderr, /cannot mount .*\/nope: .*ENOENT|no such file/i);
    assert.equal(existsSync(join(root, 'm')), false);
  });
});

/**
 * Conformance: the remote scratch directory mounted locally through FUSE, used the way programs
 * use a disk — by other processes (the mount is served by this one, so every check runs in a
 * child), with errno, renames, links, git, concurrency, and coherence with remote changes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mountAll, type Mounted } from '../../src/mount/mount.js';
import type { Backend } from './exec-cases.js';
import { sh } from './run.js';

/**
 * A local shell command in `dir`, asynchronously: this process serves the mount, so a
 * synchronous spawn — or spawn's own `cwd`, which libuv enters while the parent waits — would
 * wait on itself.
 */
export function local(script: string, dir?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', dir === undefined ? script : `cd '${dir}' && ${script}`], {
      env: { ...process.env, LC_ALL: 'C' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Runs fs calls in a child node and reports each one's errno (or "ok"). */
async function errnos(calls: string): Promise<Record<string, string>> {
  const program =
    `const fs = require('fs'); const out = {}; const t = (k, f) => { try { f(); out[k] = 'ok'; } catch (e) { ` +
    `out[k] = e.code; } }; ${calls}; console.log(JSON.stringify(out));`;
  const r = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['-e', program]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => resolve(out));
  });
  return JSON.parse(r) as Record<string, string>;
}

export function mountCases(b: Backend): void {
  let mounted: Mounted | undefined;
  /** The temporary directory holding the mount point; '' until made. */
  let base = '';
  let mnt = '';
  let remote = '';
  before(async () => {
    remote = `${b.scratch()}/mounted`;
    await sh(b.host(), `mkdir -p ${remote}`);
    base = mkdtempSync(join(tmpdir(), 'mproxy-mnt-'));
    mnt = join(base, 'ws');
    mounted = await mountAll(b.host(), [{ remote, local: mnt, readOnly: false, owner: 'local', ttlMs: 1000, allowOther: false }], {
      opTimeoutMs: 20_000,
    });
  });
  after(async () => {
    await mounted?.unmount();
    // Only ever the directory made above, and not recursively: after the unmount it is empty
    // (mountAll removes the mount point it created). Never a path derived from an unset one.
    if (base !== '') rmdirSync(base);
  });

  test('files written locally are on the remote, and back, byte for byte', async () => {
    const r = await local('printf "hello\\n" > a.txt && cat a.txt && head -c 3000000 /dev/urandom > big && sha256sum big && ls -la', mnt);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^hello$/m);
    const there = await sh(b.host(), `cat ${remote}/a.txt; sha256sum ${remote}/big`);
    assert.equal(there.stdout.toString().split('\n')[0], 'hello');
    assert.equal(there.stdout.toString().split(' ')[0]?.split('\n')[1], r.out.split('\n')[1]?.split(' ')[0]);
    assert.match(r.out, / \.\n/, 'ls shows . and ..');
  });

  test('errno as a local disk would give it', async () => {
    await local('mkdir -p full/sub && echo x > file', mnt);
    const got = await errnos(`
      t('ENOENT', () => fs.readFileSync(${JSON.stringify(`${mnt}/nope`)}));
      t('EEXIST', () => fs.mkdirSync(${JSON.stringify(`${mnt}/full`)}));
      t('ENOTEMPTY', () => fs.rmdirSync(${JSON.stringify(`${mnt}/full`)}));
      t('ENOTDIR', () => fs.readdirSync(${JSON.stringify(`${mnt}/file`)}));
      t('EISDIR', () => fs.writeFileSync(${JSON.stringify(`${mnt}/full`)}, 'x'));
      t('EEXCL', () => fs.openSync(${JSON.stringify(`${mnt}/file`)}, 'wx'))`);
    assert.deepEqual(got, {
      ENOENT: 'ENOENT',
      EEXIST: 'EEXIST',
      ENOTEMPTY: 'ENOTEMPTY',
      ENOTDIR: 'ENOTDIR',
      EISDIR: 'EISDIR',
      EEXCL: 'EEXIST',
    });
  });

  test('renames: over an existing file, directories, an editor save (temp, fsync, rename)', async () => {
    const r = await local(
      [
        'echo old > target && echo new > tmp && mv -f tmp target && cat target',
        'mkdir -p d1/in && echo z > d1/in/f && mv d1 d2 && cat d2/in/f && test ! -e d1',
        `node -e "const fs=require('fs'); const fd=fs.openSync('save.tmp','w'); fs.writeSync(fd,'saved'); fs.fsyncSync(fd); ` +
          `fs.closeSync(fd); fs.renameSync('save.tmp','saved.txt'); fs.writeFileSync('wf.txt','by writeFile')"`,
        'cat saved.txt wf.txt',
      ].join(' && '),
      mnt,
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'new\nz\nsavedby writeFile');
    assert.equal((await sh(b.host(), `cat ${remote}/saved.txt`)).stdout.toString(), 'saved');
  });

  test('symlinks, hard links, chmod, truncate, append; files appear owned by the local user', async () => {
    const r = await local(
      'echo data > orig && ln -s orig sl && readlink sl && cat sl && ln orig hard && cat hard && chmod 640 orig && stat -c "%a ' +
        '%u" orig && truncate -s 2 orig && echo more >> orig && cat orig && test -w orig && { test -x orig || echo not-executable; }',
      mnt,
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `orig\ndata\ndata\n640 ${process.getuid?.() ?? 0}\ndamore\nnot-executable\n`);
  });

  test('git init, add, commit, status inside the mount', async () => {
    const r = await local(
      'git init -q repo && cd repo && for i in 1 2 3 4 5; do echo $i > f$i; done && git add . && git -c user.email=t@e -c ' +
        'user.name=t commit -qm first && echo 6 > f1 && git status --porcelain && git log --oneline | wc -l',
      mnt,
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, ' M f1\n1\n');
    const there = await sh(
      b.host(),
      `command -v git >/dev/null || { echo no-git; exit 0; }; cd ${remote}/repo && git log --oneline | wc -l`,
    );
    assert.ok(['1', 'no-git'].includes(there.stdout.toString().trim().split('\n').pop() ?? ''), there.stdout.toString());
  });

  test("a package manager's unpack: thousands of small files with their modes and times", async () => {
    // Agentless, every file costs several round trips (a docker exec each, in Docker): fewer files.
    const count = b.host().info().tier === 'agent' ? 2000 : 60;
    const src = mkdtempSync(join(tmpdir(), 'mproxy-pkg-'));
    try {
      const made = await local(
        `mkdir -p pkg/lib && i=0; while [ $i -lt ${count} ]; do echo "module $i" > pkg/lib/m$i.js; i=$((i + 1)); done && chmod ` +
          `755 pkg/lib/m0.js && tar cf pkg.tar pkg`,
        src,
      );
      assert.equal(made.code, 0, made.err);
      const r = await local(`tar xf ${src}/pkg.tar && ls pkg/lib | wc -l && stat -c %a pkg/lib/m0.js && cat pkg/lib/m${count - 1}.js`, mnt);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, `${count}\n755\nmodule ${count - 1}\n`);
      assert.equal((await sh(b.host(), `ls ${remote}/pkg/lib | wc -l`)).stdout.toString().trim(), String(count));
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('concurrent writers and readers each see their own file', async () => {
    const r = await local(
      'mkdir conc && cd conc && for i in $(seq 1 20); do (head -c $((i * 1000)) /dev/zero | tr "\\0" "$((i % 10))" > f$i; wc -c ' +
        '< f$i) & done; wait',
      mnt,
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      r.out
        .trim()
        .split('\n')
        .map(Number)
        .sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => (i + 1) * 1000),
    );
  });

  test('a change made on the remote is seen locally within the coherence bound', async () => {
    await local('echo before > seen.txt && cat seen.txt', mnt);
    await sh(b.host(), `echo after-remote-change > ${remote}/seen.txt; echo born > ${remote}/born.txt`);
    const started = Date.now();
    let r = await local('cat seen.txt born.txt', mnt);
    while (r.out !== 'after-remote-change\nborn\n' && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await local('cat seen.txt born.txt 2>/dev/null', mnt);
    }
    assert.equal(r.out, 'after-remote-change\nborn\n');
    assert.ok(Date.now() - started < 2500, `seen after ${Date.now() - started} ms`);
  });
}

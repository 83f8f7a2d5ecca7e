/** Conformance: file operations, including their errno on failure. */
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { test } from 'node:test';
import { joinBytes } from '../../src/protocol/file-ops.js';
import type { RemoteFs } from '../../src/remote/host.js';
import type { Backend } from './exec-cases.js';
import { sh } from './run.js';

const p = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC } = constants;

async function errnoOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'no error';
}

async function writeFile(fs: RemoteFs, path: string | Buffer, data: string | Buffer): Promise<void> {
  const h = await fs.call('open', p(path), O_WRONLY | O_CREAT | O_TRUNC, 0o644);
  await fs.call('write', h, 0, p(data));
  await fs.call('close', h);
}

/** `length` bytes of an open file from `offset`, in as many reads as the backend needs (fewer at the end). */
async function readAt(fs: RemoteFs, h: number, offset: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let got = 0; got < length; ) {
    const d = joinBytes(await fs.call('read', h, offset + got, Math.min(1 << 20, length - got)));
    if (d.length === 0) break;
    chunks.push(d);
    got += d.length;
  }
  return Buffer.concat(chunks);
}

async function readFile(fs: RemoteFs, path: string): Promise<Buffer> {
  const h = await fs.call('open', p(path), O_RDONLY, 0);
  const data = await readAt(fs, h, 0, Number.MAX_SAFE_INTEGER);
  await fs.call('close', h);
  return data;
}

export function fsCases(b: Backend): void {
  const fs = (): RemoteFs => b.host().fs;
  const at = (name: string): string => `${b.scratch()}/${name}`;

  test('create, write, read back, stat', async () => {
    await writeFile(fs(), at('f.txt'), 'hello');
    assert.equal((await readFile(fs(), at('f.txt'))).toString(), 'hello');
    const st = await fs().call('stat', p(at('f.txt')));
    assert.equal(st.size, 5);
    assert.equal(st.mode & 0o170000, 0o100000);
    assert.ok(st.mtimeMs > 0);
  });

  test("readdir carries each entry's stats", async () => {
    await fs().call('mkdir', p(at('d')), 0o755);
    await writeFile(fs(), at('d/a'), '12345');
    await fs().call('mkdir', p(at('d/sub')), 0o700);
    const entries = await fs().call('readdir', p(at('d')));
    const byName = new Map(entries.map((e) => [Buffer.from(e.name).toString(), e.st]));
    assert.deepEqual([...byName.keys()].sort(), ['a', 'sub']);
    assert.equal(byName.get('a')?.size, 5);
    assert.equal((byName.get('sub')?.mode ?? 0) & 0o777, 0o700);
  });

  test('errno: ENOENT, EISDIR, ENOTDIR, ENOTEMPTY, EEXIST', async () => {
    await fs().call('mkdir', p(at('e')), 0o755);
    await writeFile(fs(), at('e/file'), 'x');
    assert.equal(await errnoOf(fs().call('stat', p(at('e/missing')))), 'ENOENT');
    assert.equal(await errnoOf(fs().call('open', p(at('e')), O_WRONLY, 0)), 'EISDIR');
    assert.equal(await errnoOf(fs().call('stat', p(at('e/file/x')))), 'ENOTDIR');
    assert.equal(await errnoOf(fs().call('rmdir', p(at('e')))), 'ENOTEMPTY');
    assert.equal(await errnoOf(fs().call('mkdir', p(at('e')), 0o755)), 'EEXIST');
    assert.equal(await errnoOf(fs().call('open', p(at('e/file')), O_WRONLY | O_CREAT | O_EXCL, 0o644)), 'EEXIST');
  });

  test('errno: EACCES for a file the remote user may not read (root may)', async () => {
    await writeFile(fs(), at('secret'), 'x');
    await fs().call('chmod', p(at('secret')), 0o000);
    const opening = fs().call('open', p(at('secret')), O_RDONLY, 0);
    if (b.host().info().user !== 'root') assert.equal(await errnoOf(opening), 'EACCES');
    else await fs().call('close', await opening);
  });

  test('rename, also over an existing file; unlink; remove', async () => {
    await writeFile(fs(), at('r1'), 'one');
    await writeFile(fs(), at('r2'), 'two');
    await fs().call('rename', p(at('r1')), p(at('r2')));
    assert.equal((await readFile(fs(), at('r2'))).toString(), 'one');
    assert.equal(await errnoOf(fs().call('stat', p(at('r1')))), 'ENOENT');
    await fs().call('unlink', p(at('r2')));
    await fs().call('mkdir', p(at('rd')), 0o755);
    await fs().call('remove', p(at('rd')));
    assert.equal(await errnoOf(fs().call('lstat', p(at('rd')))), 'ENOENT');
  });

  test('mkdirAll, chmod, truncate, ftruncate, utimes, fsync', async () => {
    await fs().call('mkdirAll', p(at('m/n/o')), 0o755);
    assert.equal((await fs().call('stat', p(at('m/n/o')))).mode & 0o170000, 0o040000);
    await writeFile(fs(), at('m/f'), '0123456789');
    await fs().call('chmod', p(at('m/f')), 0o600);
    assert.equal((await fs().call('stat', p(at('m/f')))).mode & 0o777, 0o600);
    await fs().call('truncate', p(at('m/f')), 4);
    assert.equal((await readFile(fs(), at('m/f'))).toString(), '0123');
    const h = await fs().call('open', p(at('m/f')), O_RDWR, 0);
    await fs().call('ftruncate', h, 2);
    await fs().call('fsync', h);
    assert.equal((await fs().call('fstat', h)).size, 2);
    await fs().call('close', h);
    await fs().call('utimes', p(at('m/f')), 1_000_000_000_000, 1_500_000_000_000);
    assert.equal(Math.round((await fs().call('stat', p(at('m/f')))).mtimeMs), 1_500_000_000_000);
  });

  test('symlinks: readlink, lstat versus stat; hard links share an inode', async (t) => {
    await writeFile(fs(), at('target'), 'data');
    await fs().call('symlink', p('target'), p(at('link')));
    assert.equal(Buffer.from(await fs().call('readlink', p(at('link')))).toString(), 'target');
    assert.equal((await fs().call('lstat', p(at('link')))).mode & 0o170000, 0o120000);
    assert.equal((await fs().call('stat', p(at('link')))).size, 4);
    await fs().call('link', p(at('target')), p(at('hard')));
    assert.equal((await readFile(fs(), at('hard'))).toString(), 'data', 'the hard link reads the same file');
    await b.gap(t, 'inodes', async () => {
      assert.equal((await fs().call('stat', p(at('hard')))).ino, (await fs().call('stat', p(at('target')))).ino);
      assert.equal((await fs().call('stat', p(at('hard')))).nlink, 2);
    });
  });

  test('large and sparse writes and reads', async (t) => {
    const h = await fs().call('open', p(at('sparse')), O_RDWR | O_CREAT, 0o644);
    const block = Buffer.alloc(3 << 20, 0xab);
    for (let i = 0; i < 3; i++) block.fill(0x61 + i, i << 20, (i + 1) << 20);
    assert.equal(await fs().call('write', h, 64 << 20, block), 3 << 20);
    const back = await readAt(fs(), h, 64 << 20, 3 << 20);
    assert.ok(back.equals(block), 'a 3 MiB write reads back byte for byte');
    const hole = joinBytes(await fs().call('read', h, 1 << 20, 4096));
    assert.ok(hole.equals(Buffer.alloc(4096)), 'a hole reads as zeros');
    const st = await fs().call('fstat', h);
    assert.equal(st.size, 67 << 20);
    await b.gap(t, 'sparse-files', async () => {
      assert.ok(st.blocks * 512 < 8 << 20, 'the file stays sparse');
    });
    await fs().call('close', h);
  });

  test('names with spaces, newlines and non-UTF-8 bytes survive', async (t) => {
    const survive = async (dir: string, names: readonly Buffer[]): Promise<void> => {
      await fs().call('mkdir', p(at(dir)), 0o755);
      for (const name of names) await writeFile(fs(), Buffer.concat([p(at(`${dir}/`)), name]), name);
      const listed = (await fs().call('readdir', p(at(dir)))).map((e) => Buffer.from(e.name).toString('hex')).sort();
      assert.deepEqual(listed, names.map((n) => n.toString('hex')).sort());
      const seen = await sh(b.host(), `set -- ${at(dir)}/*; echo $#`);
      assert.equal(seen.stdout.toString().trim(), String(names.length), 'the remote shell sees the same files');
    };
    await survive('names', [Buffer.from('with space'), Buffer.from('new\nline'), Buffer.from('ünï')]);
    await b.gap(t, 'non-utf8-paths', () => survive('bytes', [Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74])]));
  });

  test('a watched directory names what a remote command changed; a missing one is ENOENT', async (t) => {
    await b.gap(t, 'watch', async () => {
      const host = b.host();
      assert.ok(host.watch !== undefined, 'the host offers watch');
      await fs().call('mkdir', p(at('watched')), 0o755);
      const seen: (string | null)[] = [];
      let heard: () => void = () => undefined;
      const made = new Promise<void>((resolve) => (heard = resolve));
      const w = await host.watch(p(at('watched')), (name) => {
        seen.push(name === null ? null : Buffer.from(name).toString());
        if (seen.includes('made-remotely')) heard();
      });
      await sh(host, `echo x > ${at('watched')}/made-remotely`);
      await Promise.race([made, new Promise((resolve) => setTimeout(resolve, 5000))]);
      w.close();
      assert.ok(seen.includes('made-remotely'), `heard ${JSON.stringify(seen)}`);
      assert.equal(await errnoOf(host.watch(p(at('not-there')), () => undefined)), 'ENOENT');
    });
  });

  test('readFile: the first bytes of a file in one call; errno as open would give it', async () => {
    await writeFile(fs(), at('rf.txt'), 'abcdefghij');
    assert.equal(Buffer.from(await fs().call('readFile', p(at('rf.txt')), 4)).toString(), 'abcd');
    assert.equal(Buffer.from(await fs().call('readFile', p(at('rf.txt')), 100)).toString(), 'abcdefghij');
    assert.equal(await errnoOf(fs().call('readFile', p(at('no-such')), 10)), 'ENOENT');
    await fs().call('mkdir', p(at('rf-dir')), 0o755);
    assert.equal(await errnoOf(fs().call('readFile', p(at('rf-dir')), 10)), 'EISDIR');
  });

  test('readFiles: several files of a directory in one call, null for what cannot be read', async () => {
    await fs().call('mkdir', p(at('rfs')), 0o755);
    await writeFile(fs(), at('rfs/one'), 'first file');
    await writeFile(fs(), at('rfs/two'), '2');
    await fs().call('mkdir', p(at('rfs/sub')), 0o755);
    const names = ['one', 'missing', 'two', 'sub'].map((n) => Buffer.from(n));
    const got = await fs().call('readFiles', p(at('rfs')), names, 5);
    assert.deepEqual(
      got.map((d) => (d === null ? null : Buffer.from(d).toString())),
      ['first', null, '2', null],
    );
  });

  test('statfs and realpath', async () => {
    const s = await fs().call('statfs', p(b.scratch()));
    assert.ok(s.blocks > 0 && s.bsize > 0);
    await fs().call('mkdir', p(at('rp')), 0o755);
    const real = Buffer.from(await fs().call('realpath', p(at('rp/../rp')))).toString();
    const scratch = Buffer.from(await fs().call('realpath', p(b.scratch()))).toString();
    assert.equal(real, `${scratch}/rp`, 'the one resolved path, nothing around it');
  });
}

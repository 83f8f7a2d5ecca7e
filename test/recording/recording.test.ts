/** Recordings: every record type round-trips, damage is located, secrets redacted, size capped, file private. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { encode } from 'cbor-x';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readRecording } from '../../src/recording/reader.js';
import { RECORDING_VERSION } from '../../src/recording/records.js';
import { REDACTED, RecordingWriter } from '../../src/recording/writer.js';
import { holdThreadPool } from '../helpers/thread-pool.js';
import { tempTree } from '../helpers/tmp.js';

function sample(path: string, maxBytes = 1 << 20): RecordingWriter {
  const w = new RecordingWriter(path, { redact: (name) => /TOKEN|PASSWORD/.test(name), maxBytes });
  w.header({
    version: RECORDING_VERSION,
    profile: '.mproxy/box.toml',
    profileSha256: 'ab'.repeat(32),
    target: 'ssh://b@box',
    user: 'me',
    start: 1000,
  });
  w.start({ seq: 1, t: 1001, argv: ['make', '-j8'], cwd: '/src', env: { PATH: '/bin', API_TOKEN: 'hunter2' } });
  w.io(1, 1, Buffer.from('building\n'), 1002);
  w.io(1, 2, Buffer.from([0, 255, 10]), 1003);
  w.start({ seq: 2, parent: 1, t: 1004, argv: ['cc', 'a.c'], cwd: '/src', env: {} });
  w.end({ seq: 2, t: 1005, code: null, signal: 'SIGTERM', bytesIn: 0, bytesOut: 0 });
  w.end({ seq: 1, t: 1006, code: 2, signal: null, bytesIn: 0, bytesOut: 12 });
  return w;
}

test('every record type round-trips, in order, stdio byte-exact; the file is private', async (t) => {
  const path = join(tempTree(t, {}), 'recs', 'a.mprec');
  await sample(path).close(1007);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  const { records, damage } = readRecording(readFileSync(path));
  assert.equal(damage, undefined);
  assert.deepEqual(
    records.map((r) => r.k),
    ['header', 'start', 'io', 'io', 'start', 'end', 'end', 'footer'],
  );
  const io = records.filter((r) => r.k === 'io');
  assert.deepEqual(
    io.map((r) => Buffer.from(r.d).toString('hex')),
    [Buffer.from('building\n').toString('hex'), '00ff0a'],
  );
  assert.deepEqual(records.at(-1), { k: 'footer', t: 1007, commands: 2, capped: false });
  assert.deepEqual(records[4], { k: 'start', seq: 2, parent: 1, t: 1004, argv: ['cc', 'a.c'], cwd: '/src', env: {} });
});

test('secrets matching redact never reach the file', async (t) => {
  const path = join(tempTree(t, {}), 'b.mprec');
  await sample(path).close();
  const bytes = readFileSync(path);
  assert.equal(bytes.includes('hunter2'), false);
  const start = readRecording(bytes).records.find((r) => r.k === 'start');
  assert.deepEqual(start?.k === 'start' ? start.env : undefined, { PATH: '/bin', API_TOKEN: REDACTED });
});

test('a file cut by a crash: every whole record is read, and where it ends is said', async (t) => {
  const path = join(tempTree(t, {}), 'c.mprec');
  await sample(path).close();
  const full = readFileSync(path).length;
  truncateSync(path, full - 5);
  const cut = readRecording(readFileSync(path));
  assert.deepEqual(
    cut.records.map((r) => r.k),
    ['header', 'start', 'io', 'io', 'start', 'end', 'end'],
  );
  assert.match(cut.damage?.why ?? '', /cut short/);
  assert.ok((cut.damage?.offset ?? 0) > 0 && (cut.damage?.offset ?? 0) < full);
});

test('corrupt data is located, not thrown', async (t) => {
  const path = join(tempTree(t, {}), 'd.mprec');
  await sample(path).close();
  const bytes = readFileSync(path);
  const at = 4 + bytes.readUInt32BE(0);
  const badLength = Buffer.from(bytes);
  badLength.writeUInt32BE(0xfffffff0, at);
  assert.deepEqual(readRecording(badLength).damage, {
    offset: at,
    why: 'a record length of 4294967280 bytes cannot be right (corrupt data)',
  });
  const garbage = Buffer.from(bytes);
  garbage.fill(0xff, at + 4, at + 12);
  assert.equal(readRecording(garbage).records.length, 1);
  assert.match(readRecording(garbage).damage?.why ?? '', /corrupt data/);
  writeFileSync(path, Buffer.alloc(0));
  assert.deepEqual(readRecording(readFileSync(path)), { records: [] });
});

test('max_size stops stdio capture, commands are still recorded, the footer says so', async (t) => {
  const path = join(tempTree(t, {}), 'e.mprec');
  const w = sample(path, 10);
  w.start({ seq: 3, t: 2000, argv: ['true'], cwd: '/', env: {} });
  w.end({ seq: 3, t: 2001, code: 0, signal: null, bytesIn: 0, bytesOut: 0 });
  await w.close(2002);
  const { records } = readRecording(readFileSync(path));
  assert.equal(records.filter((r) => r.k === 'io').length, 1, 'the second chunk would pass the cap');
  assert.equal(records.filter((r) => r.k === 'start').length, 3);
  assert.deepEqual(records.at(-1), { k: 'footer', t: 2002, commands: 3, capped: true });
});

test('an existing recording is never overwritten', (t) => {
  const path = join(tempTree(t, { 'f.mprec': 'keep me' }), 'f.mprec');
  assert.throws(() => sample(path), { code: 'EEXIST' });
  assert.equal(readFileSync(path, 'utf8'), 'keep me');
});

test('a stream faster than the disk: every chunk lands, in order, byte-exact', async (t) => {
  const path = join(tempTree(t, {}), 'g.mprec');
  const w = new RecordingWriter(path, { redact: () => false, maxBytes: 1 << 30 });
  const chunks = Array.from({ length: 400 }, (_, i) => Buffer.alloc(65536 - (i % 7), i % 251)); // ~25 MiB: past the queue limit
  chunks.forEach((c, i) => w.io(1 + (i % 3), 1, c, i));
  await w.close();
  const io = readRecording(readFileSync(path)).records.filter((r) => r.k === 'io');
  assert.equal(io.length, chunks.length);
  io.forEach((r, i) => {
    assert.equal(r.k === 'io' && r.seq === 1 + (i % 3) && r.t === i, true, `chunk ${i} in its place`);
    assert.ok(r.k === 'io' && Buffer.from(r.d).equals(chunks[i] ?? Buffer.alloc(0)), `chunk ${i} byte-exact`);
  });
});

test('a process that exits without closing the recording still leaves every record in the file', (t) => {
  const path = join(tempTree(t, {}), 'h.mprec');
  const writer = new URL('../../src/recording/writer.js', import.meta.url).href;
  const script = `import { RecordingWriter } from ${JSON.stringify(writer)};
    const w = new RecordingWriter(${JSON.stringify(path)}, { redact: () => false, maxBytes: 1 << 30 });
    w.start({ seq: 1, t: 1, argv: ['x'], cwd: '/', env: {} });
    for (let i = 0; i < 100; i++) w.io(1, 1, Buffer.alloc(10000, i), i);
    process.exit(3);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  const { records, damage } = readRecording(readFileSync(path));
  assert.equal(damage, undefined);
  assert.equal(records.filter((x) => x.k === 'io').length, 100, 'no footer, but nothing lost');
});

test("a command's start and end are in the file the moment they are recorded", async (t) => {
  const path = join(tempTree(t, {}), 'i.mprec');
  const w = new RecordingWriter(path, { redact: () => false, maxBytes: 1 << 30 });
  // The thread pool is held: the stdio record's background write cannot run before the end
  // record is written and the file read.
  const pool = holdThreadPool(t);
  w.start({ seq: 1, t: 1, argv: ['make'], cwd: '/', env: {} });
  w.io(1, 1, Buffer.from('output'), 2);
  w.end({ seq: 1, t: 3, code: 0, signal: null, bytesIn: 0, bytesOut: 6 });
  // What a kill -9 right now would leave: read whole, no hole where the stdio record goes.
  const now = readRecording(readFileSync(path));
  await pool.release();
  assert.equal(now.damage, undefined);
  assert.deepEqual(
    now.records.map((r) => r.k),
    ['start', 'io', 'end'],
  );
  await w.close();
});

test('a stdio record is byte for byte what cbor-x makes of it, at every byte-string length boundary', async (t) => {
  const path = join(tempTree(t, {}), 'j.mprec');
  const w = new RecordingWriter(path, { redact: () => false, maxBytes: 1 << 30 });
  const sizes = [0, 1, 23, 24, 255, 256, 65535, 65536, 200000];
  for (const n of sizes) w.io(3, 2, Buffer.alloc(n, n % 256), 1732441234567);
  await w.close();
  const bytes = readFileSync(path);
  let at = 0;
  for (const n of sizes) {
    const length = bytes.readUInt32BE(at);
    const expected = encode({ k: 'io', seq: 3, t: 1732441234567, s: 2, d: Buffer.alloc(n, n % 256) });
    assert.ok(bytes.subarray(at + 4, at + 4 + length).equals(expected), `a chunk of ${n} bytes`);
    at += 4 + length;
  }
});

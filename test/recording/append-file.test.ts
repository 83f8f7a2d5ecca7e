/** The append-only file under a recording: every byte lands in order, however it is written. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppendFile } from '../../src/recording/append-file.js';
import { holdThreadPool } from '../helpers/thread-pool.js';
import { tempTree } from '../helpers/tmp.js';

const RING = 64 * 1024;

/** Parts of sizes from 0 to past the ring (those go around it), each made of several pieces. */
function parts(count: number): Buffer[][] {
  const sizes = [0, 1, 7, 4095, 4096, 4097, 65536, RING + 3, 300_000];
  return Array.from({ length: count }, (_, i) => {
    const whole = randomBytes(sizes[i % sizes.length] ?? 0);
    return [whole.subarray(0, 3), whole.subarray(3, 5000), whole.subarray(5000)];
  });
}

for (const direct of [true, false]) {
  const how = direct ? 'O_DIRECT' : 'plain writes';
  test(`appended bytes reach the file in order, byte-exact, through a ring they wrap and pass (${how})`, async (t) => {
    const path = join(tempTree(t, {}), 'sub', 'a.bin');
    const errors: Error[] = [];
    const file = new AppendFile(path, { ringBytes: RING, direct, onError: (e) => errors.push(e) });
    assert.equal(file.direct, direct, direct ? "this machine's temporary directory takes O_DIRECT" : 'plain writes when asked');
    const all = parts(200);
    for (const [i, p] of all.entries()) {
      file.append(p, i % 17 === 0);
      if (i % 10 === 0) await sleep(1); // background writes run and finish in between
    }
    await file.close();
    assert.deepEqual(errors, []);
    assert.ok(readFileSync(path).equals(Buffer.concat(all.flat())));
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
}

test('bytes marked now are in the file when append returns, with everything before them', (t) => {
  const path = join(tempTree(t, {}), 'b.bin');
  const file = new AppendFile(path, { onError: (e) => assert.fail(e) });
  const before = randomBytes(2 * 1024 * 1024 + 5); // enough for a background write to start
  file.append([before], false);
  file.append([Buffer.from('end')], true);
  assert.ok(readFileSync(path).equals(Buffer.concat([before, Buffer.from('end')])));
  return file.close();
});

test('a stream that pauses: what it appended reaches the file without a sync or close', async (t) => {
  const path = join(tempTree(t, {}), 'c.bin');
  const file = new AppendFile(path, { onError: (e) => assert.fail(e) });
  t.after(() => file.close());
  file.append([Buffer.from('a few bytes, then nothing')], false);
  for (let waited = 0; statSync(path).size === 0 && waited < 10_000; waited += 20) await sleep(20);
  assert.equal(readFileSync(path, 'utf8'), 'a few bytes, then nothing');
});

test('while a background write waits (a busy thread pool, a slow disk), appends that do not fit go to the file directly', async (t) => {
  const path = join(tempTree(t, {}), 'd.bin');
  const file = new AppendFile(path, { ringBytes: RING, onError: (e) => assert.fail(e) });
  const pool = holdThreadPool(t);
  const all = Array.from({ length: 40 }, (_, i) => [randomBytes(10_000 + i)]);
  for (const p of all) file.append(p, false); // the first background write holds the ring's start
  const now = readFileSync(path);
  await pool.release();
  await file.close();
  const expected = Buffer.concat(all.flat());
  assert.ok(now.length > RING, 'bytes past the ring were written while the pool was held');
  assert.ok(expected.subarray(0, now.length).equals(now), 'what was in the file then was in order');
  assert.ok(readFileSync(path).equals(expected));
  assert.equal(file.direct, false, 'a disk that fell behind direct writes gets plain ones from then on');
});

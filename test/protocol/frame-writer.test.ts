import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FrameDecoder } from '../../src/protocol/codec.js';
import { FrameWriter, type FrameSink } from '../../src/protocol/frame-writer.js';
import { T, type Frame } from '../../src/protocol/frames.js';

/** A sink that keeps each write as it came (and can say it wants a drain). */
function sink(): FrameSink & { writes: Uint8Array[]; needDrain: boolean } {
  const s = {
    writes: [] as Uint8Array[],
    needDrain: false,
    get writableNeedDrain(): boolean {
      return s.needDrain;
    },
    write(chunk: Uint8Array): boolean {
      s.writes.push(chunk);
      return !s.needDrain;
    },
  };
  return s;
}

function decode(writes: readonly Uint8Array[]): Frame[] {
  const got: Frame[] = [];
  const dec = new FrameDecoder((f) => got.push(f));
  for (const w of writes) dec.push(Buffer.from(w.buffer, w.byteOffset, w.byteLength));
  return got;
}

test('the frames of one turn leave in one write, in order, decodable as they were', async () => {
  const out = sink();
  const w = new FrameWriter(out);
  const frames: Frame[] = [
    { t: T.Exec, id: 1, argv: ['true'], env: {}, cwd: '/', fds: [] },
    { t: T.Eof, id: 1, s: 0 },
    { t: T.Data, id: 2, s: 0, d: Buffer.from('hello') },
    { t: T.Ack, id: 3, s: 1, n: 4096 },
  ];
  for (const f of frames) w.write(f);
  assert.equal(out.writes.length, 0, 'nothing is written before the turn ends');
  await nextTurn();
  assert.equal(out.writes.length, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(decode(out.writes))), JSON.parse(JSON.stringify(frames)));
  w.write({ t: T.Eof, id: 2, s: 0 });
  await nextTurn();
  assert.equal(out.writes.length, 2, 'a later turn is a write of its own');
});

test('a large payload goes out uncopied, after what was queued before it', async () => {
  const out = sink();
  const w = new FrameWriter(out);
  const big = randomBytes(1 << 20);
  w.write({ t: T.Eof, id: 1, s: 0 });
  w.write({ t: T.Data, id: 2, s: 1, d: big });
  w.write({ t: T.Eof, id: 2, s: 1 });
  // The queued frame and the big one's head at once, then the payload itself.
  assert.equal(out.writes.length, 2);
  assert.equal(out.writes[1], big);
  await nextTurn();
  const got = decode(out.writes);
  assert.deepEqual(
    got.map((f) => f.t),
    [T.Eof, T.Data, T.Eof],
  );
  const data = got[1] as Extract<Frame, { t: typeof T.Data }>;
  assert.ok(Buffer.from(data.d).equals(big));
});

test('a batch that grows large is written at once; a sink that wants a drain is said', async () => {
  const out = sink();
  const w = new FrameWriter(out);
  for (let i = 0; i < 40; i++) w.write({ t: T.Data, id: i, s: 0, d: randomBytes(10_000) });
  assert.ok(out.writes.length >= 1, 'over 256 KiB queued goes without waiting for the turn');
  out.needDrain = true;
  assert.equal(w.write({ t: T.Eof, id: 1, s: 0 }), false);
  out.needDrain = false;
  assert.equal(w.write({ t: T.Eof, id: 2, s: 0 }), true);
  await nextTurn();
  assert.equal(decode(out.writes).length, 42);
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder, ProtocolError, writeFrame } from '../../src/protocol/codec.js';
import { encodeDataFrame, Pieces } from '../../src/protocol/payloads.js';
import { SYNC_MARKER, T, type Frame } from '../../src/protocol/frames.js';

const frames: Frame[] = [
  { t: T.Hello, v: 1, caps: ['exec'] },
  { t: T.Exec, id: 7, argv: ['sh', '-c', 'true'], env: { A: 'b' }, cwd: '/', fds: [3] },
  { t: T.Data, id: 7, s: 1, d: Buffer.from([0, 255, 10]) },
  { t: T.Exit, id: 7, code: null, sig: 'SIGKILL' },
  { t: T.FileResp, id: 9, e: 'ENOENT', m: 'no such file' },
  { t: T.Exec, id: 8, argv: ['vim'], env: {}, cwd: '/', fds: [], pty: { cols: 132, rows: 43, term: 'xterm' } },
  { t: T.Resize, id: 8, cols: 80, rows: 24 },
  { t: T.Watch, id: 10, path: Buffer.from([0x2f, 0xff]) },
  { t: T.Invalidate, id: 10, name: Buffer.from('new file') },
  { t: T.Invalidate, id: 10, name: null },
  { t: T.Unwatch, id: 10 },
];

test('frames round-trip, split across any chunk boundaries', () => {
  const bytes = Buffer.concat(frames.map(encodeFrame));
  for (const size of [1, 3, 17, bytes.length]) {
    const got: Frame[] = [];
    const dec = new FrameDecoder((f) => got.push(f));
    for (let i = 0; i < bytes.length; i += size) dec.push(bytes.subarray(i, i + size));
    assert.equal(got.length, frames.length);
    assert.deepEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(frames)));
  }
});

test('the hand-written Data encoding decodes to the same frame', () => {
  for (const [id, s, n] of [
    [1, 1, 0],
    [23, 2, 23],
    [24, 3, 255],
    [300, 4, 256],
    [70000, 1, 70000],
    [2 ** 31, 2, 5],
  ] as const) {
    const d = Buffer.alloc(n, 7);
    const got: Frame[] = [];
    new FrameDecoder((f) => got.push(f)).push(Buffer.concat(encodeDataFrame(id, s, d)));
    assert.deepEqual(got, [{ t: T.Data, id, s, d }], `id ${id} s ${s} n ${n}`);
  }
});

test('file reads and writes written uncopied decode to the same frames, whatever their sizes', () => {
  for (const n of [0, 5, 4095, 4096, 70000, 1 << 20]) {
    const d = randomBytes(n);
    for (const frame of [
      { t: T.FileResp, id: 2 ** 31 + 5, r: d },
      { t: T.FileOp, id: 300, op: 'write', a: [7, 2 ** 40 + 3, d] },
      { t: T.FileOp, id: 301, op: 'write', a: [70000, 0, d] },
    ] as Frame[]) {
      const parts: Uint8Array[] = [];
      writeFrame({ write: (chunk) => parts.push(chunk) > 0 }, frame);
      if (n >= 4096) assert.equal(parts.length, 2, 'the payload is written on its own');
      assert.equal(parts.at(-1)?.buffer === d.buffer || n < 4096, true, 'and not copied');
      const got: Frame[] = [];
      new FrameDecoder((f) => got.push(f)).push(Buffer.concat(parts));
      assert.deepEqual(got, [frame], `${frame.t} n ${n}`);
    }
  }
});

test('a large read arrives in the pieces it came in, uncopied, and what follows it decodes', () => {
  const d = randomBytes((1 << 20) + 3);
  const parts: Uint8Array[] = [];
  const out = { write: (chunk: Uint8Array) => parts.push(chunk) > 0 };
  writeFrame(out, { t: T.FileResp, id: 77, r: d });
  writeFrame(out, { t: T.Data, id: 3, s: 1, d: Buffer.from('after') });
  writeFrame(out, { t: T.FileResp, id: 78, r: randomBytes(200_000) });
  const stream = Buffer.concat(parts);
  for (const size of [32 * 1024, 7, 1 << 21]) {
    const got: Frame[] = [];
    const dec = new FrameDecoder((f) => got.push(f), { pieces: true });
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
    for (const chunk of chunks) dec.push(chunk);
    assert.equal(got.length, 3, `chunks of ${size}`);
    const [read, data, second] = got as [Frame, Frame, Frame];
    assert.ok(read.t === T.FileResp && read.id === 77);
    // A frame that came whole in one chunk is a view of it, as every frame is.
    const bytes = read.r instanceof Pieces ? read.r.join() : (read.r as Buffer);
    assert.ok(bytes.equals(d), `the bytes, in chunks of ${size}`);
    if (size < stream.length) {
      assert.ok(read.r instanceof Pieces);
      // Views of what arrived, but for the piece that came with the frame's head.
      const viewed = read.r.parts.filter((p) => p.buffer === stream.buffer).reduce((n, p) => n + p.length, 0);
      assert.ok(viewed >= d.length - Math.max(size, 64), `${viewed} of ${d.length} bytes uncopied`);
    }
    assert.deepEqual(data, { t: T.Data, id: 3, s: 1, d: Buffer.from('after') });
    assert.ok(second.t === T.FileResp && second.id === 78);
    assert.equal((second.r instanceof Pieces ? second.r.join() : (second.r as Buffer)).length, 200_000);
  }
  // A write's data likewise, after its handle and position (a float64 past 4 GiB).
  const write: Frame = { t: T.FileOp, id: 9, op: 'write', a: [4, 2 ** 33 + 1, d] };
  const wparts: Uint8Array[] = [];
  writeFrame({ write: (chunk: Uint8Array) => wparts.push(chunk) > 0 }, write);
  const wgot: Frame[] = [];
  const wdec = new FrameDecoder((f) => wgot.push(f), { pieces: true });
  const wstream = Buffer.concat(wparts);
  for (let i = 0; i < wstream.length; i += 32 * 1024) wdec.push(wstream.subarray(i, i + 32 * 1024));
  const [w] = wgot as [Frame];
  assert.ok(
    w.t === T.FileOp && w.op === 'write' && w.a[0] === 4 && w.a[1] === 2 ** 33 + 1 && w.a[2] instanceof Pieces && w.a[2].join().equals(d),
  );
  // Other large frames are whole: a small-file batch whose last field is a list of byte strings.
  const batch: Frame = { t: T.FileResp, id: 10, r: [randomBytes(70_000), null] };
  const bgot: Frame[] = [];
  const bdec = new FrameDecoder((f) => bgot.push(f), { pieces: true });
  const bstream = encodeFrame(batch);
  for (let i = 0; i < bstream.length; i += 1000) bdec.push(bstream.subarray(i, i + 1000));
  assert.deepEqual(bgot, [batch]);
  // Without the option, or for an error answer, frames are whole as before.
  const whole: Frame[] = [];
  new FrameDecoder((f) => whole.push(f)).push(stream);
  assert.ok(whole[0]?.t === T.FileResp && Buffer.isBuffer(whole[0].r) && whole[0].r.equals(d));
});

test('chatter before the sync marker is skipped and kept for messages', () => {
  const got: Frame[] = [];
  const dec = new FrameDecoder((f) => got.push(f), { expectSync: true });
  const stream = Buffer.concat([Buffer.from('Welcome to build01\nLast login: never\n'), SYNC_MARKER, encodeFrame(frames[0] as Frame)]);
  for (const byte of stream) dec.push(Buffer.from([byte]));
  assert.equal(got.length, 1);
  assert.match(dec.preamble, /Welcome to build01/);
});

test('a line shorter than the sync marker, and then the end, is still what the remote said', () => {
  const dec = new FrameDecoder(() => undefined, { expectSync: true });
  dec.push(Buffer.from('MPROXY-BOOT:not-ready\n'));
  assert.equal(dec.preamble.trim(), 'MPROXY-BOOT:not-ready');
});

test('malformed input is a named protocol error', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from([0xff, 0xff, 0xff, 0xff]), /exceeds/],
    [Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from([0xff, 0xff])]), /not valid CBOR|not a CBOR map/],
    [encodeFrame({ t: 99 } as unknown as Frame), /unknown frame type 99/],
    [encodeFrame({ t: T.Exec, id: 1, argv: [], env: {}, cwd: '/', fds: [] }), /malformed Exec frame: field `argv`/],
    [encodeFrame({ t: T.Data, id: 1, s: 1, d: 'text' } as unknown as Frame), /malformed Data frame: field `d`/],
  ];
  for (const [bytes, message] of cases) {
    const dec = new FrameDecoder(() => undefined);
    assert.throws(
      () => dec.push(bytes),
      (err: Error) => err instanceof ProtocolError && message.test(err.message),
    );
  }
});

test('random bytes never decode into a frame silently', () => {
  for (let i = 0; i < 500; i++) {
    const dec = new FrameDecoder(() => undefined);
    try {
      dec.push(randomBytes(1 + (i % 300)));
    } catch (err) {
      assert.ok(err instanceof ProtocolError, String(err));
    }
  }
});

/** The shim ↔ broker frames: split from a byte stream however it arrives; the request parsed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitFrame, FrameReader, frameHeader, FromShim, parseRequest, tokenMatches, ToShim } from '../../src/broker/wire.js';

const frame = (type: number, payload: Buffer): Buffer => Buffer.concat([frameHeader(type, payload.length), payload]);

test('frames split across and within chunks come out whole, in order', () => {
  const bytes = Buffer.concat([frame(FromShim.Data, Buffer.from([0, 65, 66])), frame(FromShim.Eof, Buffer.from([0])), exitFrame(null, 15)]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const reader = new FrameReader();
    const got = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
    assert.deepEqual(
      got.map((f) => f.type),
      [FromShim.Data, FromShim.Eof, ToShim.Exit],
      `cut at ${cut}`,
    );
    assert.deepEqual([...(got[0]?.payload ?? [])], [0, 65, 66]);
    assert.equal(got[2]?.payload.readInt32LE(0), -1, 'killed by a signal');
    assert.equal(got[2]?.payload[4], 15);
  }
});

test('a request: fields, tty, extra fds, ignored signals, argv and env', () => {
  const fields = [
    'ab'.repeat(32),
    '/usr/bin/git',
    '/home/me/fw',
    '#!/bin/sh',
    '40 120',
    '3r 63w',
    '1 2 ',
    '0r4021x 1w4022- 2w4022-',
    '3 r 0 -1 x /work/in put\n4 wa 17 -1 - /work/log\n5 rw 0 -1 x /work/f\n6 w 0 1 x /work/a\nnot a line\n',
    '2',
    'git',
    'log',
    'TERM=xterm',
    'EMPTY=',
    'WITH=EQ=UALS',
  ];
  const req = parseRequest(Buffer.from(fields.map((f) => `${f}\0`).join('')));
  assert.deepEqual(req, {
    token: 'ab'.repeat(32),
    path: '/usr/bin/git',
    cwd: '/home/me/fw',
    shebang: '#!/bin/sh',
    tty: { rows: 40, cols: 120 },
    fds: [
      { fd: 3, dir: 'r' },
      { fd: 63, dir: 'w' },
    ],
    ignored: [1, 2],
    pipes: [
      { fd: 0, end: 'r', ino: '4021', joinable: true },
      { fd: 1, end: 'w', ino: '4022', joinable: false },
      { fd: 2, end: 'w', ino: '4022', joinable: false },
    ],
    files: [
      { fd: 3, mode: 'r', append: false, offset: 0, same: -1, alone: true, path: '/work/in put' },
      { fd: 4, mode: 'w', append: true, offset: 17, same: -1, alone: false, path: '/work/log' },
      { fd: 5, mode: 'rw', append: false, offset: 0, same: -1, alone: true, path: '/work/f' },
      { fd: 6, mode: 'w', append: false, offset: 0, same: 1, alone: true, path: '/work/a' },
    ],
    argv: ['git', 'log'],
    env: { TERM: 'xterm', EMPTY: '', WITH: 'EQ=UALS' },
  });
  assert.equal(parseRequest(Buffer.from('token\0/p\0/c\0\0\0\0\0\0\x003\0only-one\0')), undefined, 'argc larger than the argv given');
  assert.equal(parseRequest(Buffer.from('')), undefined);
});

test('a length no shim sends is refused before anything is buffered', () => {
  const huge = Buffer.alloc(8);
  huge.writeUInt32LE(0xffffffff);
  assert.throws(() => new FrameReader().push(huge), /a frame of 4294967295 bytes/);
  assert.throws(() => new FrameReader().push(Buffer.alloc(4)), /a frame of 0 bytes/);
});

test('the token: hex of the right length, compared in constant time, never a throw', () => {
  const token = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  assert.ok(tokenMatches(token.toString('hex'), token));
  assert.ok(tokenMatches(token.toString('hex').toUpperCase(), token));
  assert.ok(!tokenMatches('zz'.repeat(16), token));
  assert.ok(!tokenMatches('00', token));
  assert.ok(!tokenMatches(`${'0'.repeat(31)}g`, token));
});

/** The shim ↔ broker frames: split from a byte stream however it arrives; the request parsed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitFrame, FrameReader, frameHeader, FromShim, parseRequest, ToShim } from '../../src/broker/wire.js';

const frame = (type: number, payload: Buffer): Buffer => Buffer.concat([frameHeader(type, payload.length), payload]);

test('frames split across and within chunks come out whole, in order', () => {
  const bytes = Buffer.concat([frame(FromShim.Data, Buffer.from([0, 65, 66])), frame(FromShim.Eof, Buffer.from([0])), exitFrame(null, 15)]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const reader = new FrameReader();
    const got = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
    assert.deepEqual(got.map((f) => f.type), [FromShim.Data, FromShim.Eof, ToShim.Exit], `cut at ${cut}`);
    assert.deepEqual([...(got[0]?.payload ?? [])], [0, 65, 66]);
    assert.equal(got[2]?.payload.readInt32LE(0), -1, 'killed by a signal');
    assert.equal(got[2]?.payload[4], 15);
  }
});

test('a request: fields, tty, extra fds, argv and env', () => {
  const fields = ['ab'.repeat(32), '/usr/bin/git', '/home/me/fw', '#!/bin/sh', '40 120', '3r 63w', '2', 'git', 'log', 'TERM=xterm', 'EMPTY=', 'WITH=EQ=UALS'];
  const req = parseRequest(Buffer.from(fields.map((f) => `${f}\0`).join('')));
  assert.deepEqual(req, {
    token: 'ab'.repeat(32),
    path: '/usr/bin/git',
    cwd: '/home/me/fw',
    shebang: '#!/bin/sh',
    tty: { rows: 40, cols: 120 },
    fds: [{ fd: 3, dir: 'r' }, { fd: 63, dir: 'w' }],
    argv: ['git', 'log'],
    env: { TERM: 'xterm', EMPTY: '', WITH: 'EQ=UALS' },
  });
  assert.equal(parseRequest(Buffer.from('token\0/p\0/c\0\0\0\x003\0only-one\0')), undefined, 'argc larger than the argv given');
  assert.equal(parseRequest(Buffer.from('')), undefined);
});

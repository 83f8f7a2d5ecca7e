/** read_file's line window and text detection, as pure functions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { textOf } from '../../src/mcp/context.js';
import { lineRange } from '../../src/mcp/files.js';

test('lineRange: a window of lines, counted from 1, the last line with or without its newline', () => {
  const text = 'one\ntwo\nthree\n';
  assert.deepEqual(lineRange(text, 1), { content: text, total: 3, first: 1, last: 3 });
  assert.deepEqual(lineRange(text, 2, 1), { content: 'two\n', total: 3, first: 2, last: 2 });
  assert.deepEqual(lineRange(text, 3, 10), { content: 'three\n', total: 3, first: 3, last: 3 });
  assert.deepEqual(lineRange('a\nb', 2), { content: 'b', total: 2, first: 2, last: 2 });
  assert.deepEqual(lineRange(text, 9), { content: '', total: 3, first: 9, last: 8 });
  assert.deepEqual(lineRange('', 1), { content: '', total: 0, first: 1, last: 0 });
});

test('textOf: UTF-8 text, a character cut at the end tolerated; NUL bytes or broken UTF-8 are binary', () => {
  assert.equal(textOf(Buffer.from('grüße\n')), 'grüße\n');
  assert.equal(textOf(Buffer.from('grüße').subarray(0, 3)), 'gr', 'the cut ü is dropped, not an error');
  assert.equal(textOf(Buffer.from([0x61, 0x00, 0x62])), undefined);
  assert.equal(textOf(Buffer.from([0x61, 0xff, 0x62])), undefined);
});

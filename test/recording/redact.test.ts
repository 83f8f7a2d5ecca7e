/** Argv redaction by `recording.redact_args` and the scrubbing of redacted values from stdio. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgRules, redactArgv, StdioScrubber } from '../../src/recording/redact.js';

const rules = parseArgRules(['--password', '--token', 'mysql:-p']);
const redact = (...argv: string[]) => redactArgv(argv, rules);

test("a flag's value goes whether attached or the next argument", () => {
  assert.deepEqual(redact('curl', '--password=hunter2', '-v'), { argv: ['curl', '--password=[redacted]', '-v'], taken: ['hunter2'] });
  assert.deepEqual(redact('gh', 'auth', '--token', 'ghp_abc', 'x'), {
    argv: ['gh', 'auth', '--token', '[redacted]', 'x'],
    taken: ['ghp_abc'],
  });
  assert.deepEqual(redact('/usr/bin/mysql', '-psecret', '-u', 'root'), {
    argv: ['/usr/bin/mysql', '-p[redacted]', '-u', 'root'],
    taken: ['secret'],
  });
});

test('a scoped flag applies to its command only; other words are left alone', () => {
  assert.deepEqual(redact('mkdir', '-p', 'a/b').argv, ['mkdir', '-p', 'a/b']);
  assert.deepEqual(redact('curl', '--password-file', 'f', '--tokens=3').argv, ['curl', '--password-file', 'f', '--tokens=3']);
  assert.deepEqual(
    redact('echo', 'password=x', '--token').argv,
    ['echo', 'password=x', '--token'],
    'a bare flag at the end has no value to hide',
  );
});

test('operands after -- are not flags', () => {
  assert.deepEqual(redact('grep', '--', '--password=x').argv, ['grep', '--', '--password=x']);
});

test('no rules: argv unchanged', () => {
  assert.deepEqual(redactArgv(['a', '--password=x'], []), { argv: ['a', '--password=x'], taken: [] });
});

test('the scrubber cuts every known value out of a chunk, and leaves short ones', () => {
  const s = new StdioScrubber();
  s.add('hunter2');
  s.add('on');
  const out = s.scrub('1:1', Buffer.from('pw=hunter2 and hunter2; on\n'));
  assert.equal(out.toString(), 'pw=[redacted] and [redacted]; on\n');
  const binary = Buffer.from([0xff, 0x00, ...Buffer.from('hunter2'), 0x80]);
  assert.deepEqual([...s.scrub('1:1', binary)], [0xff, 0x00, ...Buffer.from('[redacted]'), 0x80], 'bytes around it kept exactly');
});

test('a secret split across chunks, at every cut, is still cut; nothing else is lost or reordered', () => {
  const text = Buffer.from('token: ghp_0123456789secret and sé ghp_0123456789secret. ghp_012 is not it\n');
  for (let cut = 0; cut <= text.length; cut++) {
    for (let cut2 = cut; cut2 <= text.length; cut2 += 7) {
      const s = new StdioScrubber();
      s.add('ghp_0123456789secret');
      const key = '3:1';
      const out = Buffer.concat([
        s.scrub(key, text.subarray(0, cut)),
        s.scrub(key, text.subarray(cut, cut2)),
        s.scrub(key, text.subarray(cut2)),
        s.flush(key),
      ]);
      assert.equal(out.toString(), 'token: [redacted] and sé [redacted]. ghp_012 is not it\n', `cuts at ${cut}, ${cut2}`);
    }
  }
});

test('streams are scrubbed apart: what one holds back is not joined to another', () => {
  const s = new StdioScrubber();
  s.add('hunter2');
  assert.equal(s.scrub('1:1', Buffer.from('a hun')).toString(), 'a ');
  assert.equal(s.scrub('1:2', Buffer.from('ter2 b')).toString(), 'ter2 b');
  assert.equal(s.scrub('1:1', Buffer.from('ter2!')).toString(), '[redacted]!');
  assert.equal(s.flush('1:1').length, 0);
});

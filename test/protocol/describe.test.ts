/** The --debug trace's line for a frame: readable, bounded, and never an environment's values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFrame } from '../../src/protocol/describe.js';
import { T } from '../../src/protocol/frames.js';
import { Pieces } from '../../src/protocol/payloads.js';

test('an Exec names its argv and cwd, and only counts its environment', () => {
  const line = describeFrame({ t: T.Exec, id: 7, argv: ['make', '-j4'], env: { API_TOKEN: 'sekrit', PATH: '/bin' }, cwd: '/w', fds: [] });
  assert.equal(line, 'Exec id=7 argv=["make", "-j4"] env={2 variables} cwd="/w" fds=[]');
  assert.doesNotMatch(line, /sekrit/);
});

test('bytes show as text when short and printable, else as their length', () => {
  assert.equal(
    describeFrame({ t: T.FileOp, id: 3, op: 'lstat', a: [Buffer.from('/home/u/src')] }),
    'FileOp id=3 op="lstat" a=["/home/u/src"]',
  );
  assert.equal(
    describeFrame({ t: T.Data, id: 3, s: 0, d: Buffer.from('hunter2') }),
    'Data id=3 s=0 d=<7 bytes>',
    'typed text is not shown',
  );
  assert.equal(
    describeFrame({ t: T.FileResp, id: 4, r: new Pieces([Buffer.alloc(1 << 20), Buffer.alloc(10)]) }),
    'FileResp id=4 r=<1048586 bytes in 2 pieces>',
  );
});

test('long lists and strings are cut, nested ones summarised', () => {
  const entries = Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, path: `/bin/f${i}`, mode: 0o100755, size: 1, mtime: 0 }));
  const line = describeFrame({ t: T.PathInfo, id: 2, entries });
  assert.match(line, /^PathInfo id=2 entries=\[\{name: "f0", path: "\/bin\/f0", mode: 33261, size: 1, mtime: 0\}, .*, … 100 in all\]$/);
  assert.ok(line.length < 600, `${line.length} characters`);
  assert.match(describeFrame({ t: T.Log, level: 'info', msg: 'x'.repeat(500) }), /^Log level="info" msg="x{80}…"$/);
});

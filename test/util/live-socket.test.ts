/** The live session's socket name and place: the hash the native client computes too, and a private directory. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fnv1a64, liveSocketDir } from '../../src/util/live-socket.js';

describe('live socket', () => {
  test('FNV-1a 64 matches the published test vectors (native/client/socket.c uses the same)', () => {
    assert.equal(fnv1a64(''), 'cbf29ce484222325');
    assert.equal(fnv1a64('a'), 'af63dc4c8601ec8c');
    assert.equal(fnv1a64('foobar'), '85944171f73967e8');
  });

  test('the directory: XDG_RUNTIME_DIR/mproxy when it is an absolute path, else /tmp/mproxy-UID', () => {
    assert.equal(liveSocketDir({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/mproxy');
    assert.equal(liveSocketDir({ XDG_RUNTIME_DIR: 'relative' }, 1000), '/tmp/mproxy-1000');
    assert.equal(liveSocketDir({}, 0), '/tmp/mproxy-0');
  });
});

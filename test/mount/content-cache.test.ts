/** The mount's content cache as pure logic: kept by (ino, mtime, size), within a byte budget. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { st } from '../helpers/wire-stat.js';
import { ContentCache } from '../../src/mount/content-cache.js';

test('content is served only while (ino, mtime, size) hold, within the byte budget', () => {
  const cache = new ContentCache(10);
  cache.put('/a', st({ size: 3 }), Buffer.from('abc'));
  assert.equal(cache.get('/a', st({ size: 3 }))?.toString(), 'abc');
  assert.equal(cache.get('/a', st({ size: 3, mtimeMs: 2000 })), undefined, 'modified');
  assert.equal(cache.get('/a', st({ size: 3 })), undefined, 'and dropped');
  cache.put('/b', st({ size: 6 }), Buffer.from('bbbbbb'));
  cache.put('/c', st({ size: 6 }), Buffer.from('cccccc'));
  assert.equal(cache.get('/b', st({ size: 6 })), undefined, 'the oldest went over budget');
  assert.equal(cache.get('/c', st({ size: 6 }))?.toString(), 'cccccc');
  cache.put('/short', st({ size: 9 }), Buffer.from('abc'));
  assert.equal(cache.get('/short', st({ size: 9 })), undefined, 'a partial read is never kept');
});

/** The mount's caches as pure logic: lifetimes, what a change drops, content keyed by (ino, mtime, size). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WireStat } from '../../src/protocol/file-ops.js';
import { ContentCache } from '../../src/mount/content-cache.js';
import { MetaCache, parentOf } from '../../src/mount/meta-cache.js';

const st = (over: Partial<WireStat> = {}): WireStat => ({ dev: 1, ino: 7, mode: 0o100644, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 3, blocks: 8, atimeMs: 1, mtimeMs: 1000, ctimeMs: 1000, ...over });

test('attributes live as long as their directory says, absent paths are remembered', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const cache = new MetaCache((dir) => (dir === '/watched' ? 60_000 : 1000));
  cache.setAttr('/a', st());
  cache.setAttr('/watched/b', st());
  cache.setAttr('/gone', null);
  assert.deepEqual(cache.attr('/a'), st());
  assert.equal(cache.attr('/gone'), null);
  t.mock.timers.tick(1500);
  assert.equal(cache.attr('/a'), undefined, 'past the short lifetime');
  assert.deepEqual(cache.attr('/watched/b'), st(), 'a watched directory keeps its entries');
});

test('a change drops the path, its parent listing and attributes; changedBelow drops a subtree', () => {
  const cache = new MetaCache(() => 60_000);
  cache.setListing('/d', ['f']);
  cache.setAttr('/d', st({ mode: 0o40755 }));
  cache.setAttr('/d/f', st());
  cache.setAttr('/dx', st());
  cache.changed('/d/f');
  assert.equal(cache.attr('/d/f'), undefined);
  assert.equal(cache.listing('/d'), undefined);
  assert.equal(cache.attr('/d'), undefined, 'the parent\'s mtime changed too');
  cache.setAttr('/d/f', st());
  cache.setAttr('/d/g/h', st());
  cache.changedBelow('/d');
  assert.equal(cache.attr('/d/g/h'), undefined);
  assert.deepEqual(cache.attr('/dx'), st(), 'a sibling with the same prefix stays');
  assert.equal(parentOf('/a/b'), '/a');
  assert.equal(parentOf('/a'), '/');
});

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

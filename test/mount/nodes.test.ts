/** The node table as pure logic: paths follow renames, lookups and forgets bound memory, replaced files get new nodes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WireStat } from '../../src/protocol/file-ops.js';
import { st } from '../helpers/wire-stat.js';
import { NodeTable, ROOT_INO } from '../../src/mount/nodes.js';

const dir = (ino: number): WireStat => st({ ino, mode: 0o40755 });

function must<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

/** A node as the kernel would hold it: made by a lookup, counted once. */
function looked(nodes: NodeTable, parentIno: number, name: string, attr: WireStat): number {
  const parent = nodes.get(parentIno);
  assert.ok(parent !== undefined);
  const node = nodes.ensure(parent, name, attr);
  node.attr = attr;
  node.lookups++;
  return node.ino;
}

test('paths are the names of the parents, and follow a rename of a directory', () => {
  const nodes = new NodeTable();
  const a = looked(nodes, ROOT_INO, 'a', dir(10));
  const f = looked(nodes, a, 'f', st({ ino: 11 }));
  assert.equal(nodes.path(nodes.root), '/');
  assert.equal(nodes.path(must(nodes.get(f))), '/a/f');
  const b = looked(nodes, ROOT_INO, 'b', dir(12));
  nodes.rename(nodes.root, 'a', must(nodes.get(b)), 'moved');
  assert.equal(nodes.path(must(nodes.get(f))), '/b/moved/f', 'the subtree follows without touching it');
  assert.equal(nodes.child(nodes.root, 'a'), undefined);
  assert.ok(ROOT_INO < a && a < f && f < b, 'node ids are handed out once, in order');
});

test('the same name holding another file gets a new node; the same file keeps its node', () => {
  const nodes = new NodeTable();
  const first = looked(nodes, ROOT_INO, 'f', st({ ino: 20 }));
  assert.equal(looked(nodes, ROOT_INO, 'f', st({ ino: 20, size: 99 })), first, 'contents changed: same node');
  const second = looked(nodes, ROOT_INO, 'f', st({ ino: 21 }));
  assert.notEqual(second, first, 'replaced (another inode): a new node');
  assert.equal(nodes.get(first)?.detached, true, 'the old one lives on unnamed while the kernel holds it');
  assert.equal(looked(nodes, ROOT_INO, 'f', st({ ino: 21, mode: 0o40755 })) === second, false, 'a file replaced by a directory: new node');
});

test('forget drops a node at its last lookup, and parents that only it kept', () => {
  const nodes = new NodeTable();
  const a = looked(nodes, ROOT_INO, 'a', dir(30));
  const f = looked(nodes, a, 'f', st({ ino: 31 }));
  looked(nodes, a, 'f', st({ ino: 31 }));
  assert.equal(nodes.size, 3);
  assert.equal(nodes.forget(f, 1), undefined, 'one lookup left');
  nodes.forget(a, 1);
  assert.ok(nodes.get(a) !== undefined, 'a directory with a known child stays, so the child keeps its path');
  assert.ok(nodes.forget(f, 1) !== undefined);
  assert.equal(nodes.get(f), undefined);
  assert.equal(nodes.get(a), undefined, 'the parent went with its last child');
  assert.equal(nodes.size, 1, 'only the root is left');
  assert.equal(nodes.forget(ROOT_INO, 100), undefined, 'the root is never forgotten');
});

test('an unlinked file keeps its node until forgotten; a hard link is found by inode', () => {
  const nodes = new NodeTable();
  const f = looked(nodes, ROOT_INO, 'f', st({ ino: 40, nlink: 2 }));
  const h = looked(nodes, ROOT_INO, 'h', st({ ino: 40, nlink: 2 }));
  looked(nodes, ROOT_INO, 'other', st({ ino: 41, nlink: 2 }));
  assert.deepEqual(
    nodes.sameFile(must(nodes.get(f))).map((n) => n.ino),
    [h],
  );
  nodes.detach(nodes.root, 'f');
  assert.equal(nodes.child(nodes.root, 'f'), undefined);
  assert.equal(nodes.get(f)?.detached, true);
  nodes.forget(f, 1);
  assert.equal(nodes.get(f), undefined);
  assert.deepEqual(nodes.sameFile(must(nodes.get(ROOT_INO))), [], 'no inode number to go by: none');
});

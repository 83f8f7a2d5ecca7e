import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyDefinedOn, locateToml } from '../../src/profile/toml-locate.js';

function at(text: string, ptr: string): { key?: string; value?: string } {
  const loc = locateToml(text).get(ptr);
  assert.ok(loc !== undefined, `no location for ${ptr}`);
  const fmt = (s: { line: number; column: number } | undefined) => (s === undefined ? undefined : `${s.line}:${s.column}`);
  const out: { key?: string; value?: string } = {};
  const key = fmt(loc.key);
  const value = fmt(loc.value);
  if (key !== undefined) out.key = key;
  if (value !== undefined) out.value = value;
  return out;
}

test('plain keys under table headers', () => {
  const text = '[target]\nuri = "local"\n  agent   =  "none"\n';
  assert.deepEqual(at(text, '/target'), { key: '1:2', value: '1:1' });
  assert.deepEqual(at(text, '/target/uri'), { key: '2:1', value: '2:7' });
  assert.deepEqual(at(text, '/target/agent'), { key: '3:3', value: '3:14' });
});

test('dotted keys, at the top and inside a table, with quoted parts', () => {
  const text = 'target.uri = "x"\n[env]\nset."A.B" = "1"\n';
  assert.deepEqual(at(text, '/target'), { key: '1:1' });
  assert.deepEqual(at(text, '/target/uri'), { key: '1:8', value: '1:14' });
  assert.deepEqual(at(text, '/env/set/A.B'), { key: '3:5', value: '3:13' });
});

test('inline tables, nested', () => {
  const text = 'target = { uri = "local", agent = "none" }\nenv = { set = { CI = "1" } }\n';
  assert.deepEqual(at(text, '/target/agent'), { key: '1:27', value: '1:35' });
  assert.deepEqual(at(text, '/env/set/CI'), { key: '2:17', value: '2:22' });
});

test('arrays of tables count their entries, and sub-tables attach to the last one', () => {
  const text = '[[mounts]]\nremote = "/a"\n\n[[mounts]]\nremote = "/b"\nlocal = "/c"\n[[mounts]]\n[mounts.extra]\nx = 1\n';
  assert.deepEqual(at(text, '/mounts/0/remote'), { key: '2:1', value: '2:10' });
  assert.deepEqual(at(text, '/mounts/1'), { key: '4:3', value: '4:1' });
  assert.deepEqual(at(text, '/mounts/1/local'), { key: '6:1', value: '6:9' });
  assert.deepEqual(at(text, '/mounts/2/extra/x'), { key: '9:1', value: '9:5' });
});

test('multi-line arrays with comments and trailing commas locate each element', () => {
  const text = 'keep = [\n  "HOME",  # the home\n  # a comment line\n  "LC_*",\n]\nnext = 1\n';
  assert.deepEqual(at(text, '/keep/0'), { key: '2:3', value: '2:3' });
  assert.deepEqual(at(text, '/keep/1'), { key: '4:3', value: '4:3' });
  assert.deepEqual(at(text, '/next'), { key: '6:1', value: '6:8' });
});

test('multi-line strings do not confuse the lines after them', () => {
  const text = 'a = """\nx = 1\n[not.a.table]\n"""\nb = \'\'\'\nliteral \\\n\'\'\'\nc = """ends with quotes"""""\nd = 2\n';
  assert.deepEqual(at(text, '/b'), { key: '5:1', value: '5:5' });
  assert.deepEqual(at(text, '/d'), { key: '9:1', value: '9:5' });
  assert.equal(locateToml(text).get('/not'), undefined);
  assert.equal(locateToml(text).get('/x'), undefined);
});

test('strings containing # and escaped quotes are not comments', () => {
  const text = 'a = "x # \\" y"\nb = \'# not\' # comment\nc = 3\n';
  assert.deepEqual(at(text, '/c'), { key: '3:1', value: '3:5' });
});

test('keys with characters a JSON pointer escapes', () => {
  const text = '"a/b" = 1\n"c~d" = 2\n';
  assert.deepEqual(at(text, '/a~1b'), { key: '1:1', value: '1:9' });
  assert.deepEqual(at(text, '/c~0d'), { key: '2:1', value: '2:9' });
});

test('the key defined on a line is found for redefinition errors', () => {
  assert.deepEqual(keyDefinedOn('[t]\nx = 1\nx = 2', 3), ['t', 'x']);
  assert.deepEqual(keyDefinedOn('[t]\nx = 1\n[t]', 3), ['t']);
});

test('stops quietly on text it cannot read, keeping what came before', () => {
  const map = locateToml('a = 1\n= broken\n');
  assert.ok(map.has('/a'));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTargetUri } from '../../src/util/target-uri.js';

const ok = (uri: string): unknown => {
  const r = parseTargetUri(uri);
  assert.ok(r.ok, r.ok ? '' : `${uri}: ${r.reason}`);
  return r.value;
};
const bad = (uri: string): string => {
  const r = parseTargetUri(uri);
  assert.ok(!r.ok, `${uri} should be refused`);
  return r.reason;
};

test('accepted forms', () => {
  assert.deepEqual(ok('local'), { kind: 'local' });
  assert.deepEqual(ok('build01'), { kind: 'ssh', host: 'build01' });
  assert.deepEqual(ok('builder@build01.example.com'), { kind: 'ssh', user: 'builder', host: 'build01.example.com' });
  assert.deepEqual(ok('ssh://builder@build01:2222'), { kind: 'ssh', user: 'builder', host: 'build01', port: 2222 });
  assert.deepEqual(ok('ssh://[2001:db8::1]:22'), { kind: 'ssh', host: '2001:db8::1', port: 22 });
  assert.deepEqual(ok('builder@[::1]'), { kind: 'ssh', user: 'builder', host: '::1' });
  assert.deepEqual(ok('ssh://h/'), { kind: 'ssh', host: 'h' });
  assert.deepEqual(ok('docker://my_dev.1'), { kind: 'docker', container: 'my_dev.1' });
  assert.deepEqual(ok('compose://proj/api'), { kind: 'compose', project: 'proj', service: 'api' });
  assert.deepEqual(ok('compose://proj/api/3'), { kind: 'compose', project: 'proj', service: 'api', index: 3 });
  assert.deepEqual(ok('compose://./api'), { kind: 'compose', service: 'api' });
});

test('refused forms say why', () => {
  assert.match(bad('ssh://h:0'), /out of range/);
  assert.match(bad('ssh://h:65536'), /out of range/);
  assert.match(bad('ssh://h:x'), /not a number/);
  assert.match(bad('ssh://fe80::1'), /must be in brackets/);
  assert.match(bad('ssh://[fe80::1'), /unclosed/);
  assert.match(bad('ssh://[nothex]:22'), /not an IPv6 address/);
  assert.match(bad('u@h:22'), /needs the ssh:\/\/ form/);
  assert.match(bad('ftp://h'), /unknown scheme/);
  assert.match(bad('ssh://'), /no host/);
  assert.match(bad('docker://'), /no container/);
  assert.match(bad('compose://p'), /PROJECT\/SERVICE/);
  assert.match(bad('compose://p/s/0'), /positive/);
  assert.match(bad('compose://p/s/1/x'), /PROJECT\/SERVICE/);
  assert.match(bad('compose://Bad/s'), /project name/);
});

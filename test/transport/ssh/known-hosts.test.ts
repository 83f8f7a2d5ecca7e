import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fingerprint, hostFieldMatches, keyTypeOf, recordHostKey, verifyHostKey } from '../../../src/transport/ssh/known-hosts.js';
import { tempTree } from '../../helpers/tmp.js';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}
const KEY = { type: 'ssh-ed25519', blob: blob('ssh-ed25519', 'key-one') };
const OTHER = blob('ssh-ed25519', 'key-two');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

test('key type and fingerprint come from the blob', () => {
  assert.equal(keyTypeOf(KEY.blob), 'ssh-ed25519');
  assert.match(fingerprint(KEY.blob), /^SHA256:[A-Za-z0-9+/]+$/);
});

test('host fields: plain, [host]:port, lists, wildcards, negation, hashed', () => {
  assert.ok(hostFieldMatches('build01,10.0.0.1', 'build01'));
  assert.ok(hostFieldMatches('[build01]:2222', '[build01]:2222'));
  assert.ok(!hostFieldMatches('[build01]:2222', 'build01'));
  assert.ok(hostFieldMatches('*.example.com', 'a.example.com'));
  assert.ok(!hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com'));
  assert.ok(hostFieldMatches(hashed('[127.0.0.1]:2200'), '[127.0.0.1]:2200'));
  assert.ok(!hostFieldMatches(hashed('[127.0.0.1]:2200'), '[127.0.0.1]:2201'));
});

test('known, unknown, changed (with file and line) and revoked', (t) => {
  const root = tempTree(t, {
    known_hosts:
      `# comment\nother ${KEY.type} ${OTHER.toString('base64')}\n[h]:2222 ${KEY.type} ` +
      `${KEY.blob.toString('base64')}\nchanged ${KEY.type} ${OTHER.toString('base64')}\n` +
      `@revoked bad ${KEY.type} ${KEY.blob.toString('base64')}\nrsa-only ssh-rsa AAAA\n`,
  });
  const files = [join(root, 'known_hosts')];
  assert.deepEqual(verifyHostKey(files, 'h', 2222, KEY), { kind: 'known', file: files[0], line: 3 });
  assert.deepEqual(verifyHostKey(files, 'h', 22, KEY), { kind: 'unknown', otherTypes: [] });
  assert.deepEqual(verifyHostKey(files, 'changed', 22, KEY), { kind: 'changed', file: files[0], line: 4, recordedType: KEY.type });
  assert.deepEqual(verifyHostKey(files, 'bad', 22, KEY), { kind: 'revoked', file: files[0], line: 5 });
  assert.deepEqual(verifyHostKey(files, 'rsa-only', 22, KEY), { kind: 'unknown', otherTypes: ['ssh-rsa'] });
});

test('accept-new records the key privately, and it is then known', (t) => {
  const root = tempTree(t, {});
  const file = join(root, '.ssh', 'known_hosts');
  recordHostKey(file, '127.0.0.1', 2200, KEY);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(root, '.ssh')).mode & 0o777, 0o700);
  assert.match(readFileSync(file, 'utf8'), /^\[127\.0\.0\.1\]:2200 ssh-ed25519 /);
  assert.equal(verifyHostKey([file], '127.0.0.1', 2200, KEY).kind, 'known');
});

test('@revoked in a later file wins over an accepting line in an earlier one', (t) => {
  const root = tempTree(t, {
    user: `[h]:2222 ${KEY.type} ${KEY.blob.toString('base64')}\n`,
    system: `@revoked * ${KEY.type} ${KEY.blob.toString('base64')}\n`,
  });
  const files = [join(root, 'user'), join(root, 'system')];
  assert.deepEqual(verifyHostKey(files, 'h', 2222, KEY), { kind: 'revoked', file: files[1], line: 1 });
  assert.deepEqual(verifyHostKey(files.slice(0, 1), 'h', 2222, KEY), { kind: 'known', file: files[0], line: 1 });
});

test('host names are matched lower-cased, hashed entries too; keys are recorded lower-cased', (t) => {
  const root = tempTree(t, { known_hosts: `${hashed('[localhost]:2222')} ${KEY.type} ${OTHER.toString('base64')}\n` });
  const file = join(root, 'known_hosts');
  assert.deepEqual(verifyHostKey([file], 'LOCALHOST', 2222, KEY), { kind: 'changed', file, line: 1, recordedType: KEY.type });
  recordHostKey(file, 'Build01', 22, KEY);
  assert.match(readFileSync(file, 'utf8'), /\nbuild01 ssh-ed25519 /);
  assert.equal(verifyHostKey([file], 'BUILD01', 22, KEY).kind, 'known');
});

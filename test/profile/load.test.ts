import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeOrigin } from '../../src/profile/diagnostics.js';
import { loadProfile, type LoadOptions } from '../../src/profile/load.js';
import { tempTree } from '../helpers/tmp.js';

function options(root: string, extra: Partial<LoadOptions> = {}): LoadOptions {
  return {
    cwd: root,
    home: '/home/tester',
    env: { MPROXY_SYSTEM_CONFIG: join(root, 'etc.toml'), MPROXY_USER_CONFIG: join(root, 'user.toml') },
    ...extra,
  };
}

test('layers apply low to high: defaults < machine < user < extends < profile < .local < flags', (t) => {
  const root = tempTree(t, {
    'etc.toml': '[target]\nconnect_timeout = "1s"\nkeepalive = "1s"\nagent = "none"\n[recording]\nkeep = 1\n',
    'user.toml': '[target]\nkeepalive = "2s"\nagent = "none"\n[recording]\nkeep = 2\nmode = "commands"\n',
    'base.toml': '[target]\nagent = "node"\n[recording]\nkeep = 3\nmode = "full"\n',
    'p.toml': 'extends = "./base.toml"\n[target]\nuri = "local"\n[recording]\nkeep = 4\n',
    'p.local.toml': '[recording]\nkeep = 5\n',
  });
  const r = loadProfile(
    'p.toml',
    options(root, { flags: [{ flag: '--set recording.max_size=1MiB', path: ['recording', 'max_size'], value: '1MiB' }] }),
  );
  assert.deepEqual(r.diagnostics, []);
  const p = r.profile;
  assert.ok(p !== undefined);
  assert.equal(p.target.host_key_policy, 'strict', 'default');
  assert.equal(p.target.connect_timeout, '1s', 'machine config');
  assert.equal(p.target.keepalive, '2s', 'user config beats machine');
  assert.equal(p.target.agent, 'node', 'extends beats user');
  assert.equal(p.recording.mode, 'full', 'extends beats user');
  assert.equal(p.recording.keep, 5, '.local beats profile');
  assert.equal(p.recording.max_size, '1MiB', 'flag');
  const origin = (ptr: string) => describeOrigin(r.origins.get(ptr));
  assert.equal(origin('/target/host_key_policy'), 'default');
  assert.equal(origin('/target/connect_timeout'), `${join(root, 'etc.toml').slice(root.length + 1)}:2`);
  assert.equal(origin('/target/agent'), 'base.toml:2');
  assert.equal(origin('/target/uri'), 'p.toml:3');
  assert.equal(origin('/recording/keep'), 'p.local.toml:2');
  assert.equal(origin('/recording/max_size'), 'flag --set recording.max_size=1MiB');
});

test('arrays replace, tables merge', (t) => {
  const root = tempTree(t, {
    'base.toml': '[env]\nkeep = ["A", "B"]\nset = { X = "1", Y = "2" }\n',
    'p.toml': 'extends = "base.toml"\n[target]\nuri = "local"\n[env]\nkeep = ["C"]\nset = { Y = "3" }\n',
  });
  const r = loadProfile('p.toml', options(root));
  assert.deepEqual(r.profile?.env.keep, ['C']);
  assert.deepEqual({ ...r.profile?.env.set }, { X: '1', Y: '3' });
  assert.equal(describeOrigin(r.origins.get('/env/keep/0')), 'p.toml:5');
  assert.equal(r.origins.get('/env/keep/1'), undefined, 'origins of replaced elements are forgotten');
});

test('a diamond reads each base once and the first path wins', (t) => {
  const root = tempTree(t, {
    'base.toml': '[target]\nagent = "none"\nkeepalive = "9s"\n',
    'a.toml': 'extends = "base.toml"\n[target]\nagent = "node"\n',
    'b.toml': 'extends = "base.toml"\n[target]\nconnect_timeout = "3s"\n',
    'p.toml': 'extends = ["a.toml", "b.toml"]\n[target]\nuri = "local"\n',
  });
  const r = loadProfile('p.toml', options(root));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.profile?.target.agent, 'node', 'b.toml does not re-apply base.toml over a.toml');
  assert.equal(r.profile?.target.connect_timeout, '3s');
  assert.equal(r.profile?.target.keepalive, '9s');
});

test('${env:…} expands, with defaults, escapes, and origins that name the variable', (t) => {
  const root = tempTree(t, {
    'p.toml': '[target]\nuri = "ssh://${env:U}@${env:H:-build01}"\n[env.set]\nLIT = "$${env:U}"\nSHELLY = "${HOME}"\n',
  });
  const r = loadProfile('p.toml', options(root, { env: { U: 'alice' } }));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.profile?.target.uri, 'ssh://alice@build01');
  assert.equal(r.profile?.env.set['LIT'], '${env:U}');
  assert.equal(r.profile?.env.set['SHELLY'], '${HOME}', 'other ${…} text is left alone');
  assert.equal(describeOrigin(r.origins.get('/target/uri')), 'p.toml:2 (env:U, env:H)');
});

test('an unset variable without default is an error naming it and its line', (t) => {
  const root = tempTree(t, { 'p.toml': '\n[target]\nuri = "${env:NOPE}"\n' });
  const r = loadProfile('p.toml', options(root, { env: {} }));
  assert.equal(r.profile, undefined);
  assert.equal(r.diagnostics.length, 1);
  assert.match(r.diagnostics[0]?.message ?? '', /NOPE is not set/);
  assert.equal(r.diagnostics[0]?.line, 3);
});

test('local paths: ~ expands locally, mount local defaults to remote and the rest to the schema, remote ~ stays symbolic', (t) => {
  const root = tempTree(t, {
    '.mproxy/p.toml':
      '[target]\nuri = "local"\nidentity_file = "~/.ssh/k"\n[[mounts]]\nremote = "~/src"\n[[mounts]]\nremote = "/srv/x"\nlocal = "~/x/"\n',
  });
  const r = loadProfile('.mproxy/p.toml', options(root));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.profile?.target.identity_file, '/home/tester/.ssh/k');
  assert.deepEqual(r.profile?.mounts, [
    { remote: '~/src', local: '/home/tester/src', read_only: false, owner: 'local', allow_other: false, cache_ttl: '1s' },
    { remote: '/srv/x', local: '/home/tester/x', read_only: false, owner: 'local', allow_other: false, cache_ttl: '1s' },
  ]);
  assert.equal(r.profile?.recording.path, join(root, '.mproxy/recordings/{profile}-{time}.cbor'), 'relative to the project root');
});

test('errors in an extended file name that file', (t) => {
  const root = tempTree(t, { 'base.toml': '[target]\n\nagent = "bogus"\n', 'p.toml': 'extends = "base.toml"\n[target]\nuri = "local"\n' });
  const r = loadProfile('p.toml', options(root));
  assert.equal(r.diagnostics[0]?.file, 'base.toml');
  assert.equal(r.diagnostics[0]?.line, 3);
});

test('partial profiles (bases) may lack required keys but not break rules', (t) => {
  const root = tempTree(t, { 'base.toml': '[target]\nagent = "none"\n', 'bad.toml': '[target]\nagent = "x"\n' });
  assert.deepEqual(loadProfile('base.toml', options(root, { partial: true })).diagnostics, []);
  assert.equal(loadProfile('base.toml', options(root)).diagnostics.length, 1);
  assert.equal(loadProfile('bad.toml', options(root, { partial: true })).diagnostics.length, 1);
});

test('a TOML key named __proto__ is only a key', (t) => {
  const root = tempTree(t, { 'p.toml': '[target]\nuri = "local"\n[env.set]\n__proto__ = "x"\n' });
  const r = loadProfile('p.toml', options(root));
  assert.deepEqual(r.diagnostics, []);
  const set = r.profile?.env.set ?? {};
  assert.equal(Object.getOwnPropertyDescriptor(set, '__proto__')?.value, 'x');
  assert.deepEqual(Object.keys(set), ['__proto__']);
});

test('a reference that is broken is an error at its value, not literal text: ${env: unclosed, a misspelt namespace', (t) => {
  const root = tempTree(t, {
    'p.toml': '[target]\nuri = "ssh://${env:USER@build01"\n[env.set]\nWHO = "${evn:USER}"\nSHELLY = "${HOME:-/root} ${X:2} ${str:pos}"\n',
  });
  const r = loadProfile('p.toml', options(root, { env: { USER: 'me' } }));
  assert.equal(r.profile, undefined);
  const messages = r.diagnostics.map((d) => `${d.line}: ${d.message} | ${(d.hints ?? []).join(' ')}`);
  assert.equal(messages.length, 2, messages.join('\n'));
  assert.match(messages[0] ?? '', /^2: `\$\{env:` is never closed with `\}`/);
  assert.match(messages[1] ?? '', /^4: `\$\{evn:` is not a reference: the only namespace is env \| did you mean `\$\{env:`\?/);
});

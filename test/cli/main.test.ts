/** The CLI as a user meets it: help, version, usage errors, exit statuses. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, runMproxy } from '../helpers/cli.js';

const COMMANDS = ['up', 'validate', 'exec', 'config', 'schema', 'mount', 'log', 'doctor'];

test('--help lists every command of the normative surface', () => {
  const r = runMproxy(['--help']);
  assert.equal(r.code, 0);
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

test('every command has --help with its usage', () => {
  for (const c of COMMANDS) {
    const r = runMproxy([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, new RegExp(`^Usage: mproxy ${c}`), c);
    assert.equal(r.stderr, '');
  }
  assert.equal(runMproxy(['help', 'config']).stdout, runMproxy(['config', '-h']).stdout);
});

test('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = runMproxy(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `mproxy ${pkg.version}\n`);
});

test('no command: usage on stdout, exit 2', () => {
  const r = runMproxy([]);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /^mproxy .* — /);
});

test('an unknown command is a usage error with a suggestion', () => {
  const r = runMproxy(['valdiate', 'x']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unknown command `valdiate`\n {2}hint: did you mean `mproxy validate`\?/);
});

test('an unknown option is a usage error naming it, with a suggestion', () => {
  const r = runMproxy(['validate', '--jsn', 'profiles/']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option --jsn for `mproxy validate`\n {2}hint: did you mean --json\?/);
});

test('an option missing its value, and a malformed --set, are usage errors', () => {
  assert.equal(runMproxy(['config', 'profiles/local.toml', '--set']).code, 2);
  const r = runMproxy(['config', 'profiles/local.toml', '--set', 'nonsense']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /expected KEY.PATH=VALUE/);
});

test('validate of a path that does not exist is a usage error', () => {
  const r = runMproxy(['validate', 'no/such/dir']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no\/such\/dir: no such file or directory/);
});

test('failures keep the exit status of their kind: up 125 (mproxy failed), log 1', () => {
  const up = runMproxy(['up', 'no/such/profile.toml', '--', 'true']);
  assert.equal(up.code, 125);
  assert.match(up.stderr, /profile no\/such\/profile.toml does not exist/);
  const log = runMproxy(['log', 'no-such-recording.cbor']);
  assert.equal(log.code, 1);
  assert.match(log.stderr, /cannot read .*no-such-recording\.cbor/);
});

test('errors carry no stack trace; --debug adds one', () => {
  const plain = runMproxy(['config', 'no-such-profile']);
  assert.equal(plain.code, 1);
  assert.doesNotMatch(plain.stderr, /\bat .*:\d+:\d+/);
  const debug = runMproxy(['--debug', 'config', 'no-such-profile']);
  assert.match(debug.stderr, /\bat .*:\d+:\d+/);
});

test('schema prints the JSON Schema on stdout', () => {
  const r = runMproxy(['schema']);
  assert.equal(r.code, 0);
  const schema = JSON.parse(r.stdout) as { $schema: string; properties: Record<string, unknown> };
  assert.match(schema.$schema, /draft-07/);
  assert.ok('target' in schema.properties);
  assert.equal(r.stdout, readFileSync(join(REPO_ROOT, 'schemas/profile.schema.json'), 'utf8'));
});

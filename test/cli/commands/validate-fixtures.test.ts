/**
 * Every invalid fixture prints the located message a user would want (golden files reviewed by
 * hand; regenerate with UPDATE_GOLDEN=1 and read the diff), exits 1, and shows no stack trace.
 * Every valid fixture passes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, runMproxy, testEnv } from '../../helpers/cli.js';

const dir = join(FIXTURES, 'profiles');
const env = testEnv({ MPROXY_FIXTURE_USER: 'builder' });
const invalid = readdirSync(join(dir, 'invalid'))
  .filter((f) => f.endsWith('.toml'))
  .sort();
const valid = readdirSync(join(dir, 'valid'))
  .filter((f) => f.endsWith('.toml') && !f.endsWith('.local.toml'))
  .sort();

describe('invalid profiles', () => {
  test('there are at least 40 cases', () => {
    assert.ok(invalid.length >= 40, `only ${invalid.length} invalid fixtures`);
  });
  for (const file of invalid) {
    test(file, () => {
      const r = runMproxy(['validate', `invalid/${file}`], { cwd: dir, env });
      const golden = join(dir, 'invalid', file.replace(/\.toml$/, '.expected'));
      // Written only on request, never to fill a gap: a missing golden file is a failure.
      if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, r.stderr);
      assert.ok(existsSync(golden), `${golden} is missing: write it (UPDATE_GOLDEN=1) and review it`);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
      assert.match(r.stderr, /^invalid\/(_parts\/)?[\w-]+\.toml:\d+:\d+: error: /, 'starts with a located error');
      assert.equal(r.stderr, readFileSync(golden, 'utf8'));
    });
  }
});

describe('valid profiles', () => {
  for (const file of valid) {
    test(file, () => {
      const r = runMproxy(['validate', `valid/${file}`], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /: error: /);
      assert.match(r.stderr, /1 profile checked, 0 invalid/);
    });
  }
  test('a directory of profiles with shared bases validates as a whole', () => {
    const r = runMproxy(['validate', 'valid'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /profiles checked, 0 invalid/);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { profileSchema, type Profile } from '../../src/profile/schema.js';
import type { JsonSchema } from '../../src/profile/schema-types.js';
import { schemaReference } from '../../src/profile/reference.js';
import { REPO_ROOT } from '../helpers/cli.js';

test('schemas/profile.schema.json is the schema the code uses (run `npm run schema:write` after a change)', () => {
  const onDisk: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/profile.schema.json'), 'utf8'));
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(profileSchema)));
});

test('the README profile reference is generated from the schema', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- profile-reference:start -->');
  const end = readme.indexOf('<!-- profile-reference:end -->');
  assert.ok(start >= 0 && end > start, 'README has the reference markers');
  const section = readme.slice(readme.indexOf('\n', start) + 1, end);
  assert.equal(section, schemaReference(), 'regenerate with `mproxy schema --markdown`');
});

test('every key has a description and every table forbids unknown keys', () => {
  const walk = (s: JsonSchema, path: string): void => {
    if (path !== '' && s.description === undefined && s.title !== 'pattern' && s.title !== 'command-pattern' && !path.endsWith('[]')) {
      assert.fail(`${path} has no description`);
    }
    if (s.properties !== undefined) {
      assert.equal(s.additionalProperties, false, `${path || 'root'} allows unknown keys`);
      for (const [k, v] of Object.entries(s.properties)) walk(v, path === '' ? k : `${path}.${k}`);
    }
    if (s.items !== undefined) walk(s.items, `${path}[]`);
  };
  walk(profileSchema, '');
});

test('machineproxy.toml.example documents every key', () => {
  const example = readFileSync(join(REPO_ROOT, 'machineproxy.toml.example'), 'utf8');
  const keys: string[] = [];
  const walk = (s: JsonSchema): void => {
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      keys.push(k);
      walk(v);
      if (v.items !== undefined) walk(v.items);
    }
  };
  walk(profileSchema);
  for (const key of keys)
    assert.match(example, new RegExp(`^#? ?(\\[+[a-z.]*)?${key}\\b`, 'm'), `${key} is not in machineproxy.toml.example`);
});

// Compile-time: the type follows the schema (these lines stop compiling if they drift).
const typed = (p: Profile): [string, 'strict' | 'accept-new', string[], number, boolean | undefined] => [
  p.target.uri,
  p.target.host_key_policy,
  p.env.keep,
  p.recording.keep,
  p.mounts?.[0]?.read_only,
];
void typed;

/**
 * The one-way dependency rule of STYLE.md, checked on every source file: cli → runner → parts
 * (broker, doctor, mount, profile, recording, remote, sandbox) → transport → protocol → util;
 * above transport only the runner opens a transport, everyone else sees its interface
 * (transport/transport.ts); the agent shares only the protocol with mproxy. An import against
 * the direction fails here, naming the file and the import.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { sources } from '../helpers/sources.js';

const RANK: Readonly<Record<string, number>> = { cli: 5, runner: 4, transport: 2, protocol: 1, util: 0 };
const PARTS = 3;

/** Relative imports of a file, static and dynamic, type-only ones included. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1] ?? '');
}

const layerOf = (path: string): string => relative(join(REPO_ROOT, 'src'), path).split('/')[0] ?? '';
const rank = (layer: string): number => RANK[layer] ?? PARTS;

test('src: every import points down the layers (cli → runner → parts → transport → protocol → util)', () => {
  const against: string[] = [];
  for (const file of sources(join(REPO_ROOT, 'src'))) {
    const from = layerOf(file);
    for (const spec of imports(file)) {
      const to = layerOf(resolve(dirname(file), spec));
      if (to !== from && rank(to) >= rank(from) && !(rank(from) === PARTS && rank(to) === PARTS))
        against.push(`${relative(REPO_ROOT, file)} imports ${spec} (${from} → ${to})`);
    }
  }
  assert.deepEqual(against, []);
});

test('src: above the transport, only the runner opens one; the tiers see only its interface', () => {
  const against: string[] = [];
  for (const file of sources(join(REPO_ROOT, 'src'))) {
    const from = layerOf(file);
    if (from === 'transport' || from === 'runner') continue;
    for (const spec of imports(file)) {
      const target = relative(join(REPO_ROOT, 'src'), resolve(dirname(file), spec));
      if (target.startsWith('transport/') && target !== 'transport/transport.js')
        against.push(`${relative(REPO_ROOT, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(against, []);
});

test("agent: it shares only the protocol (and nothing of mproxy's runtime) with src", () => {
  const against: string[] = [];
  for (const file of sources(join(REPO_ROOT, 'agent', 'src'))) {
    for (const spec of imports(file)) {
      const target = resolve(dirname(file), spec);
      const inSrc = relative(join(REPO_ROOT, 'src'), target);
      if (!inSrc.startsWith('..') && !inSrc.startsWith('protocol/')) against.push(`${relative(REPO_ROOT, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(against, []);
});

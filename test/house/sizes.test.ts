/**
 * STYLE.md's sizes, checked on every source file of the project — mproxy, its agent, the C
 * helpers and the FUSE binding, the tests and the benchmarks: at most 300 lines, so one file
 * stays one job a reader can hold at once, and no line past the formatter's 140 columns (it
 * does not break long strings: they are split by hand; C is held to the same width). An
 * offender fails here, named with its length.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { sources } from '../helpers/sources.js';

const MAX_LINES = 300;
const MAX_COLUMNS = 140;

const FILES = [
  ...['src', 'agent/src', 'test', 'bench'].flatMap((d) => sources(join(REPO_ROOT, d))),
  ...sources(join(REPO_ROOT, 'native'), ['.c', '.h']),
];

test(`every source file at most ${MAX_LINES} lines`, () => {
  assert.ok(FILES.length > 250, `found ${FILES.length} source files: the walk is looking in the right places`);
  assert.ok(
    FILES.some((f) => f.endsWith('.c')),
    'the C sources are among them',
  );
  const over = FILES.map((f) => ({ file: relative(REPO_ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`);
  assert.deepEqual(over, []);
});

test(`no line over ${MAX_COLUMNS} columns`, () => {
  const over = FILES.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, i) => ([...line].length > MAX_COLUMNS ? [`${relative(REPO_ROOT, f)}:${i + 1}: ${[...line].length} columns`] : [])),
  );
  assert.deepEqual(over, []);
});

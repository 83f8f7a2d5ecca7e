/**
 * STYLE.md's sizes, checked on every source file of mproxy and its agent: at most 300 lines,
 * so one file stays one job a reader can hold at once, and no line past the formatter's 140
 * columns (it does not break long strings: they are split by hand). An offender fails here,
 * named with its length.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { sources } from '../helpers/sources.js';

const MAX_LINES = 300;
const MAX_COLUMNS = 140;

test(`src and agent: no source file over ${MAX_LINES} lines`, () => {
  const files = [...sources(join(REPO_ROOT, 'src')), ...sources(join(REPO_ROOT, 'agent', 'src'))];
  assert.ok(files.length > 100, `found ${files.length} source files: the walk is looking in the right place`);
  const over = files
    .map((f) => ({ file: relative(REPO_ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`);
  assert.deepEqual(over, []);
});

test(`src and agent: no line over ${MAX_COLUMNS} columns`, () => {
  const files = [...sources(join(REPO_ROOT, 'src')), ...sources(join(REPO_ROOT, 'agent', 'src'))];
  const over = files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, i) => ([...line].length > MAX_COLUMNS ? [`${relative(REPO_ROOT, f)}:${i + 1}: ${[...line].length} columns`] : [])),
  );
  assert.deepEqual(over, []);
});

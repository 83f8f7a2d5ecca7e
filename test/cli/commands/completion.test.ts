/** The completion scripts, run by the shells themselves: commands, options, profile names. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMproxy } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';

/** What bash completes for the words typed so far (the last one being completed). */
function bashCompletes(script: string, words: readonly string[], cwd: string): string[] {
  const program =
    `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _mproxy; ` +
    `printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test("bash: commands, a command's options, and profile names from the nearest .mproxy/", (t) => {
  const root = tempTree(t, {
    '.mproxy/build-box.toml': '',
    '.mproxy/build-box.local.toml': '',
    '.mproxy/docker-dev.toml': '',
    'sub/x': '',
  });
  const script = runMproxy(['completion', 'bash']).stdout;
  assert.deepEqual(bashCompletes(script, ['mproxy', 'va'], root), ['validate']);
  assert.deepEqual(bashCompletes(script, ['mproxy', 'up', '--s'], root), ['--set']);
  assert.deepEqual(bashCompletes(script, ['mproxy', 'up', 'b'], join(root, 'sub')), ['build-box']);
  assert.deepEqual(
    bashCompletes(script, ['mproxy', 'exec', ''], join(root, 'sub')).filter((w) => !w.includes('/') && w !== 'x'),
    ['build-box', 'docker-dev', 'local'],
  );
});

test('zsh and fish scripts are accepted by their shells where installed; a wrong shell is a usage error', () => {
  for (const shell of ['zsh', 'fish']) {
    const script = runMproxy(['completion', shell]);
    assert.equal(script.code, 0);
    const have = spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
    if (!have) continue;
    const check = spawnSync(shell, shell === 'zsh' ? ['-n', '-c', script.stdout] : ['-n', '-c', script.stdout], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  }
  const wrong = runMproxy(['completion', 'tcsh']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /completion takes one shell: bash, zsh or fish/);
});

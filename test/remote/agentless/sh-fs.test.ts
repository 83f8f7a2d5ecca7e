/** The sh file backend run by a real sh on this machine: listings stay true when entries vanish. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ShellFs } from '../../../src/remote/agentless/sh-fs.js';
import { tempTree } from '../../helpers/tmp.js';

/** Runs each script with /bin/sh; `before(script)` may change it first (to act between its steps). */
function localShell(before: (script: string) => string = (s) => s): ShellFs {
  return new ShellFs(async (script, stdin) => {
    const r = spawnSync('/bin/sh', ['-c', before(script)], { input: stdin, timeout: 20_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  });
}

test('readdir: each name with its own attributes, also when an entry vanishes between listing and stat', async (t) => {
  const root = tempTree(t, { 'a-small': 'x', 'b-gone': 'doomed', 'c-large': 'y'.repeat(5000) });
  const sizes = async (fs: ShellFs): Promise<Record<string, number | undefined>> =>
    Object.fromEntries((await fs.call('readdir', Buffer.from(root))).map((e) => [Buffer.from(e.name).toString(), e.st?.size]));
  assert.deepEqual(await sizes(localShell()), { 'a-small': 1, 'b-gone': 6, 'c-large': 5000 });
  // b-gone is removed after the names were listed and before their attributes are read.
  const racing = localShell((s) => s.replace(/^(?=if s=\$\(stat|stat -c)/m, `rm -f -- '${root}/b-gone'; `));
  assert.deepEqual(await sizes(racing), { 'a-small': 1, 'b-gone': undefined, 'c-large': 5000 });
});

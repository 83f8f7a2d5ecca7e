/**
 * Files made and removed on both sides in one `mproxy up` session, on every target: what a
 * script does (`rm out; ... > out`) works whichever side did which, even before the remote's
 * change notice has arrived.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IN_CI } from '../harness/system.js';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { leftovers, UP_TARGETS } from './up-backends.js';

for (const make of UP_TARGETS) {
  const target = make();
  describe(`mproxy up, files: ${target.name}`, { skip: target.missing !== undefined && !IN_CI ? target.missing : false }, () => {
    let profile = '';
    let home = '';
    const sessionTmp = mkdtempSync(join(tmpdir(), 'mproxy-data-sessions-'));
    before(async () => {
      if (target.missing !== undefined) throw new Error(target.missing);
      ({ profile, home } = await target.start());
    });
    after(async () => {
      await target.stop();
      rmdirSync(sessionTmp);
    });

    test('a file removed there and made again here at once is the new file, not an error', () => {
      // The kernel still has the old entry (its notice is on its way): it must ask again, not fail.
      const r = spawnSync(
        process.execPath,
        [MPROXY_BIN, 'up', profile, '--', 'bash', '-c', 'echo one > R; rm R; echo two > R; cat R; wc -c < R; rm R'],
        { cwd: home, env: testEnv({ HOME: home, TMPDIR: sessionTmp }), encoding: 'utf8', timeout: 60_000, input: '' },
      );
      assert.deepEqual(leftovers(sessionTmp), [], 'nothing is left mounted or running');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^two\n\s*4\n$/);
    });
  });
}

/**
 * Files through `mproxy up`, on every target. A file written into the mount by a remote command
 * reads back the same three ways — as a remote command's stdin carried from here (`{ sha256sum;
 * } < F`: a plain `< F` is opened on the remote by the agent tiers, up-redirections), by a
 * program here through the mount, and by the remote itself — round after round (a new open
 * once read the size caught mid-write: the file's own write notices gave it a new node). And
 * what a script does (`rm out; ... > out`) works whichever side did which, even before the
 * remote's change notice has arrived.
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
const ROUNDS = 4;
const LOCAL_SHA = (f: string): string =>
  `node -e "process.stdout.write(require('crypto').createHash('sha256').update(require('fs').readFileSync('${f}')).digest('hex') + '\\n')"`;

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

    test('a file written through the mount reads back the same as stdin carried from here, here, and there', () => {
      const round = (f: string): string =>
        // The brace group holds the file here: sha256sum's stdin is carried from here, not opened there.
        `head -c 20000000 /dev/urandom > ${f}; { sha256sum | cut -d' ' -f1; } < ${f}; ${LOCAL_SHA(f)}; ` +
        `sha256sum ${f} | cut -d' ' -f1; rm ${f}; `;
      const script = Array.from({ length: ROUNDS }, (_, i) => round(`F${i}`)).join('');
      const r = spawnSync(process.execPath, [MPROXY_BIN, 'up', profile, '--', 'bash', '-c', script], {
        cwd: home,
        env: testEnv({ HOME: home, TMPDIR: sessionTmp }),
        encoding: 'utf8',
        timeout: 240_000,
        input: '',
      });
      assert.deepEqual(leftovers(sessionTmp), [], 'nothing is left mounted or running');
      assert.equal(r.status, 0, r.stderr);
      const sums = r.stdout.trim().split('\n');
      assert.equal(sums.length, 3 * ROUNDS, r.stdout);
      for (let i = 0; i < ROUNDS; i++) {
        const [carried, here, there] = sums.slice(3 * i, 3 * i + 3);
        assert.match(here ?? '', /^[0-9a-f]{64}$/);
        assert.deepEqual({ carried, there }, { carried: here, there: here }, `round ${i + 1}: stdin carried, read here, read there`);
      }
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

/**
 * The boot scripts run by a real sh against a real cache directory: every cached file is
 * checked by content, with or without sha256sum, and the shell that starts the agent refuses
 * a file that is not what its name says.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentBundle } from '../../../src/remote/agent/bundle.js';
import { parseProbe, probeScript, REFUSED, startScript, uploadScript } from '../../../src/remote/agent/boot-scripts.js';
import { tempTree } from '../../helpers/tmp.js';

/** A PATH holding node and the basic tools the scripts use, but no sha256sum. */
function pathWithoutSha256sum(root: string): string {
  const bin = join(root, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  for (const tool of ['uname', 'mkdir', 'cat', 'chmod', 'mv', 'rm']) symlinkSync(`/bin/${tool}`, join(bin, tool));
  return bin;
}

function run(script: string, home: string, path: string, input?: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', script], { env: { HOME: home, PATH: path }, input, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const withSum of [true, false]) {
  const label = withSum ? 'with sha256sum' : 'without sha256sum';

  test(`probe ${label}: an intact cached agent is ready, a damaged one needs an upload`, (t) => {
    const home = tempTree(t, { [`.cache/mproxy/${agentBundle().cacheName}`]: agentBundle().bytes });
    const path = withSum ? (process.env['PATH'] ?? '') : pathWithoutSha256sum(home);
    assert.equal(parseProbe(run(probeScript(), home, path).stdout)?.node.kind, 'ready');
    writeFileSync(join(home, '.cache/mproxy', agentBundle().cacheName), 'damaged');
    assert.equal(parseProbe(run(probeScript(), home, path).stdout)?.node.kind, 'need-upload');
  });

  test(`start ${label}: a damaged cached agent is refused, never run`, (t) => {
    const home = tempTree(t, {
      [`.cache/mproxy/${agentBundle().cacheName}`]: `require('fs').writeFileSync(process.env.HOME + '/it-ran', '')`,
    });
    const path = withSum ? (process.env['PATH'] ?? '') : pathWithoutSha256sum(home);
    const r = run(startScript(false), home, path);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`${REFUSED} .*${agentBundle().cacheName}: its sha256 is not ${agentBundle().sha256}`));
    assert.ok(!existsSync(join(home, 'it-ran')), 'the damaged agent did not run');
  });

  test(`upload ${label}: bytes that are not the file never take its name`, (t) => {
    const home = tempTree(t, {});
    const path = withSum ? (process.env['PATH'] ?? '') : pathWithoutSha256sum(home);
    const damaged = Buffer.from(agentBundle().bytes);
    damaged[100] = (damaged[100] ?? 0) ^ 1;
    const r = run(uploadScript(agentBundle(), '600'), home, path, damaged);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /arrived damaged/);
    assert.deepEqual(readdirSync(join(home, '.cache/mproxy')), [], 'nothing cached, no temporary left');
    assert.equal(run(uploadScript(agentBundle(), '600'), home, path, agentBundle().bytes).code, 0);
    assert.deepEqual(readdirSync(join(home, '.cache/mproxy')), [agentBundle().cacheName]);
  });
}

/**
 * The package as users get it: `npm pack`, then `npm install -g` of the tarball into a private
 * prefix (dependencies' install scripts not run, as current npm does for global installs), then
 * the installed `mproxy` answers --version, validates a profile, and runs the main job on the
 * embedded local target.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, testEnv } from '../helpers/cli.js';
import { tempTree } from '../helpers/tmp.js';

test('the packed package installs with npm install -g and runs every part up needs', (t) => {
  const root = tempTree(t, { 'work/data.txt': 'seen through the mount\n' });
  const npm = (args: readonly string[], cwd: string) =>
    spawnSync('npm', [...args], { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  // The build is fresh (npm test builds first): pack without running it again.
  const packed = npm(['pack', '--ignore-scripts', '--pack-destination', root], REPO_ROOT);
  assert.equal(packed.status, 0, packed.stderr);
  const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball !== undefined, readdirSync(root).join(','));
  const prefix = join(root, 'prefix');
  const installed = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(root, tarball)], root);
  assert.equal(installed.status, 0, installed.stderr);

  const mproxy = join(prefix, 'bin', 'mproxy');
  const work = join(root, 'work');
  const run = (args: readonly string[]) =>
    spawnSync(mproxy, args, { cwd: work, env: testEnv({ HOME: root, TMPDIR: root }), encoding: 'utf8', timeout: 60_000 });
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(run(['--version']).stdout, `mproxy ${version}\n`);

  writeFileSync(join(work, 'box.toml'), '[target]\nuri = "ssh://builder@build01"\n[[mounts]]\nremote = "/srv/fw"\n');
  const validated = run(['validate', 'box.toml']);
  assert.equal(validated.status, 0, validated.stdout + validated.stderr);

  // exec goes through the native client, which hands over to the bundled CLI when no session is live.
  const exec = run(['exec', 'local', '--', 'sh', '-c', 'echo $((6 * 7)); exit 3']);
  assert.equal(exec.status, 3, exec.stderr);
  assert.equal(exec.stdout, '42\n');

  const up = run(['up', 'local', '--', 'sh', '-c', 'cat data.txt; echo "exit from a remote command"']);
  assert.equal(up.status, 0, up.stderr);
  assert.equal(up.stdout, 'seen through the mount\nexit from a remote command\n');
});

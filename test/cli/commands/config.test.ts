/** `mproxy config`: every resolved value with its origin. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMproxy, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';

test('shows each value of the example build-box profile with file:line or default', () => {
  const r = runMproxy(['config', 'profiles/ssh-build-box.toml']);
  assert.equal(r.code, 0, r.stderr);
  const line = (key: string): string => r.stdout.split('\n').find((l) => l.startsWith(`${key} = `)) ?? '';
  assert.match(line('target.uri'), /= "ssh:\/\/builder@build01\.example\.internal:2222"\s+# profiles\/ssh-build-box\.toml:11$/);
  assert.match(line('target.identity_file'), /= "\/home\/tester\/\.ssh\/id_ed25519"\s+# profiles\/ssh-build-box\.toml:\d+$/);
  assert.match(line('sandbox.default'), /= "remote"\s+# default$/);
  assert.match(line('mounts[1].read_only'), /= true\s+# profiles\/ssh-build-box\.toml:\d+$/);
  assert.match(line('env.set.CI'), /= "1"\s+# profiles\/ssh-build-box\.toml:\d+$/);
});

test('--json gives the profile and the origin of each value; env and flag origins are named', (t) => {
  const root = tempTree(t, { '.git/HEAD': '', '.mproxy/dev.toml': '[target]\nuri = "ssh://${env:DEV_USER}@dev"\n' });
  const r = runMproxy(['config', 'dev', '--json', '--set', 'recording.keep=3'], { cwd: root, env: testEnv({ DEV_USER: 'ana' }) });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    file: string;
    profile: { target: { uri: string } };
    values: { path: string; value: unknown; origin: string }[];
  };
  assert.equal(out.file, '.mproxy/dev.toml');
  assert.equal(out.profile.target.uri, 'ssh://ana@dev');
  const origin = (p: string) => out.values.find((v) => v.path === p)?.origin;
  assert.equal(origin('target.uri'), '.mproxy/dev.toml:2 (env:DEV_USER)');
  assert.equal(origin('recording.keep'), 'flag --set recording.keep=3');
  assert.equal(origin('target.agent'), 'default');
});

test('an invalid profile prints its problems and exits 1', (t) => {
  const root = tempTree(t, { 'p.toml': '[target]\nuri = "local"\nagnet = "none"\n' });
  const r = runMproxy(['config', 'p.toml'], { cwd: root });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^p\.toml:3:1: error: target\.agnet: unknown key `agnet`\n {2}hint: did you mean `agent`\?/);
});

test('a profile NAME that is not there is refused with the names that are', (t) => {
  const root = tempTree(t, { '.git/HEAD': '', '.mproxy/build-box.toml': '[target]\nuri = "local"\n' });
  const r = runMproxy(['config', 'buildbox'], { cwd: root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no profile `buildbox` in .*\.mproxy\n {2}hint: did you mean `build-box`\?/);
  assert.equal(runMproxy(['config'], { cwd: root }).code, 0, 'the only profile is the default');
});

test('`local` is the embedded profile where the project has none, its relative paths in the project', (t) => {
  const root = tempTree(t, { '.git/HEAD': '' });
  const r = runMproxy(['config', 'local', '--json'], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { file: string; profile: { target: { uri: string }; recording: { path: string } } };
  assert.match(out.file, /profiles\/local\.toml$/);
  assert.equal(out.profile.target.uri, 'local');
  assert.ok(out.profile.recording.path.startsWith(`${root}/`), `${out.profile.recording.path} is under ${root}`);
  const own = tempTree(t, { '.git/HEAD': '', '.mproxy/local.toml': '[target]\nuri = "ssh://me@elsewhere"\n' });
  const mine = JSON.parse(runMproxy(['config', 'local', '--json'], { cwd: own }).stdout) as { profile: { target: { uri: string } } };
  assert.equal(mine.profile.target.uri, 'ssh://me@elsewhere', "a project's own local.toml comes first");
});

/** `mproxy validate --connect` against the harness sshd and dockerd: each failure located at the line that configures it. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runMproxy, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';
import { dockerdMissing, startDockerd, type Dockerd } from '../../harness/dockerd.js';
import { clientHome, type ClientHome } from '../../harness/ssh-client.js';
import { startSshd, type Sshd } from '../../harness/sshd.js';
import { IN_CI, requireOrSkip, sshdMissing } from '../../harness/system.js';

describe('validate --connect: ssh', { skip: sshdMissing() !== undefined && !IN_CI ? sshdMissing() : false }, () => {
  let sshd: Sshd;
  let home: ClientHome;
  before(async (t) => {
    if (!requireOrSkip(t as never, sshdMissing())) return;
    sshd = await startSshd();
    home = clientHome(sshd);
  });
  after(async () => sshd?.stop());

  const check = (name: string, text: string, extra: readonly string[] = []) => {
    writeFileSync(join(home.home, name), text);
    return runMproxy(['validate', '--connect', ...extra, name], { cwd: home.home, env: testEnv({ HOME: home.home }) });
  };

  test('a reachable target: the tier, each mount directory and the remote PATH; exit 0', () => {
    const r = check(
      'ok.toml',
      `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n\n[[mounts]]\nremote = "/tmp"\nlocal = "/srv/mproxy-view"\n`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ok\.toml: reached ssh:\/\/\S+: tier agent, linux\/x64/);
    assert.match(r.stderr, /ok\.toml: mounts\[0\]: \/tmp is a directory on the remote/);
    assert.match(r.stderr, /ok\.toml: the remote PATH holds \d+ commands/);
    assert.match(r.stderr, /1 profile checked, 0 invalid/);
  });

  test('a missing mount directory is located at its remote line; --json carries the steps', () => {
    const r = check(
      'nodir.toml',
      `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\nagent = "none"\n\n[[mounts]]\nremote = "/nonexistent/fw"\n`,
      ['--json'],
    );
    assert.equal(r.code, 1, r.stderr);
    const [out] = JSON.parse(r.stdout) as {
      valid: boolean;
      issues: { line: number; path: string; message: string }[];
      connect: string[];
    }[];
    assert.equal(out?.valid, false);
    assert.deepEqual(
      out?.issues.map((i) => [i.line, i.path]),
      [[6, 'mounts[0].remote']],
    );
    assert.match(out?.issues[0]?.message ?? '', /\/nonexistent\/fw does not exist on the remote/);
    assert.ok(
      out?.connect.some((s) => /tier agentless/.test(s)),
      JSON.stringify(out?.connect),
    );
  });

  test('a wrong port and a changed host key: located at target.uri, with the reason', () => {
    const closed = check('port.toml', `# a comment\n[target]\nuri = "ssh://${sshd.user}@127.0.0.1:1"\n`);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /^port\.toml:3:7: error: target\.uri: cannot reach ssh:\/\/\S+:1: .*(refused|ECONNREFUSED)/m);
    writeFileSync(
      home.knownHosts,
      `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBiXwN9sRzZ2Zkmy3i0cp6hQ0f0wHMYz2yrcbcx3AcJX\n`,
    );
    const changed = check('key.toml', `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n`);
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /^key\.toml:2:7: error: target\.uri: cannot reach .*HAS CHANGED/m);
  });
});

describe('validate --connect: docker', { skip: dockerdMissing() !== undefined && !IN_CI ? dockerdMissing() : false }, () => {
  let dockerd: Dockerd;
  before(async (t) => {
    if (!requireOrSkip(t as never, dockerdMissing())) return;
    dockerd = await startDockerd();
    dockerd.runContainer('busybox', 'checked');
  });
  after(async () => dockerd?.stop());

  test('a container: reached agentless; a missing one located at target.uri', (t) => {
    const root = tempTree(t, {});
    const write = (name: string, uri: string): string => {
      writeFileSync(join(root, name), `[target]\nuri = "${uri}"\ndocker_host = "${dockerd.host}"\n`);
      return name;
    };
    const env = testEnv({ HOME: root });
    const ok = runMproxy(['validate', '--connect', write('c.toml', 'docker://checked')], { cwd: root, env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /reached docker:\/\/checked: tier agentless/);
    const gone = runMproxy(['validate', '--connect', write('g.toml', 'docker://no-such-container')], { cwd: root, env });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /g\.toml:2:7: error: target\.uri: cannot reach docker:\/\/no-such-container: no such container/);
  });
});

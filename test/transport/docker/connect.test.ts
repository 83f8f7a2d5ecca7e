/** The docker and compose targets against a real dockerd: resolution and the errors a user meets. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { composeProjectName } from '../../../src/transport/docker/compose-project.js';
import { connectDocker } from '../../../src/runner/connect.js';
import type { AgentMode } from '../../../src/remote/tier.js';
import type { Target } from '../../../src/util/target-uri.js';
import { collect } from '../../conformance/run.js';
import { MPROXY_BIN, testEnv } from '../../helpers/cli.js';
import { tempTree } from '../../helpers/tmp.js';
import { CONTAINER_OS, dockerdMissing, startDockerd, type Dockerd } from '../../harness/dockerd.js';
import { requireOrSkip } from '../../harness/system.js';

test("compose project names: COMPOSE_PROJECT_NAME, the file's name:, the directory", (t) => {
  const root = tempTree(t, { 'My App/compose.yaml': 'services: {}\n', 'named/compose.yml': '# x\nname: "Shop_API"\nservices: {}\n' });
  assert.equal(composeProjectName(join(root, 'My App'), {}), 'myapp');
  assert.equal(composeProjectName(join(root, 'named'), {}), 'shop_api');
  assert.equal(composeProjectName(join(root, 'named'), { COMPOSE_PROJECT_NAME: 'Override' }), 'override');
});

const missing = dockerdMissing();
describe('docker target', { skip: missing !== undefined && process.env['CI'] !== 'true' ? missing : false }, () => {
  let dockerd: Dockerd;
  before(async (t) => {
    if (!requireOrSkip(t as never, missing)) return;
    dockerd = await startDockerd();
    dockerd.runContainer('node', 'dev');
    dockerd.runContainer('node', 'stopped');
    dockerd.docker('stop', '-t', '0', 'stopped');
    const labels = (n: number) => ({
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'api',
      'com.docker.compose.container-number': String(n),
    });
    dockerd.runContainer('node', 'shop-api-1', labels(1));
    dockerd.runContainer('node', 'shop-api-2', labels(2));
    dockerd.runContainer('busybox', 'shop-db-1', {
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'db',
      'com.docker.compose.container-number': '1',
    });
  });
  after(async () => dockerd?.stop());

  const connect = (
    target: Extract<Target, { kind: 'docker' | 'compose' }>,
    host = dockerd.host,
    agent: AgentMode = 'auto',
    verbose?: (m: string) => void,
  ) =>
    connectDocker(target, agent, {
      dockerHost: host,
      env: {},
      cwd: '/',
      opTimeoutMs: 20_000,
      ...(verbose !== undefined ? { verbose } : {}),
    });
  const code = (c: string, re: RegExp) => (err: Error & { code?: string }) => err.code === c && re.test(err.message);

  test('a daemon that is not there', async () => {
    await assert.rejects(
      connect({ kind: 'docker', container: 'dev' }, 'unix:///nonexistent/docker.sock'),
      code('E_DOCKER', /cannot reach the Docker daemon at unix:\/\/\/nonexistent/),
    );
  });

  test('a tcp:// daemon with TLS: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are honoured as by the docker CLI', async () => {
    const env = { DOCKER_HOST: dockerd.tls.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dockerd.tls.certPath };
    const host = await connectDocker({ kind: 'docker', container: 'dev' }, 'none', { env, cwd: '/', opTimeoutMs: 20_000 });
    try {
      const p = host.exec({ argv: ['cat', '/etc/os-release'], env: {}, cwd: '/' });
      p.stdin.end();
      assert.match((await collect(p.stdout)).toString(), new RegExp(CONTAINER_OS));
    } finally {
      await host.close();
    }
    // Without the TLS settings the daemon is not reached (it wants a client certificate), and that is said.
    await assert.rejects(
      connectDocker({ kind: 'docker', container: 'dev' }, 'none', {
        env: { DOCKER_HOST: dockerd.tls.host },
        cwd: '/',
        opTimeoutMs: 20_000,
      }),
      code('E_DOCKER', /cannot reach the Docker daemon at tcp:/),
    );
    await assert.rejects(
      connectDocker({ kind: 'docker', container: 'dev' }, 'none', {
        env: { ...env, DOCKER_CERT_PATH: '/nonexistent' },
        cwd: '/',
        opTimeoutMs: 20_000,
      }),
      code('E_DOCKER', /TLS files are not in \/nonexistent/),
    );
  });

  test('no such container, and a stopped one', async () => {
    await assert.rejects(connect({ kind: 'docker', container: 'nope' }), code('E_DOCKER', /no such container: nope/));
    await assert.rejects(
      connect({ kind: 'docker', container: 'stopped' }),
      code('E_DOCKER', /container stopped is not running \(exited\)/),
    );
  });

  test('compose: a replica by number; several replicas and no number is refused', async () => {
    const host = await connect({ kind: 'compose', project: 'shop', service: 'api', index: 2 });
    const p = host.exec({ argv: ['hostname'], env: {}, cwd: '/' });
    p.stdin.end();
    assert.ok((await collect(p.stdout)).length > 0);
    await host.close();
    await assert.rejects(connect({ kind: 'compose', project: 'shop', service: 'api' }), code('E_DOCKER', /has 2 containers \(.*\)/));
    await assert.rejects(connect({ kind: 'compose', project: 'shop', service: 'web' }), code('E_DOCKER', /no container of service `web`/));
  });

  test('an image without node: agent = "node" says so; auto works agentless and says why', async () => {
    const target = { kind: 'compose', project: 'shop', service: 'db' } as const;
    await assert.rejects(
      connect(target, dockerd.host, 'node'),
      code('E_AGENT_START', /agent = "node", but container shop-db-1 has no node/),
    );
    const said: string[] = [];
    const host = await connect(target, dockerd.host, 'auto', (m) => said.push(m));
    assert.equal(host.info().tier, 'agentless');
    // The quick start's own answer is what is said, not a closed connection.
    assert.match(said.join('\n'), /probing container shop-db-1 \(no cached agent\)/);
    assert.match(said.join('\n'), /tier agentless on container shop-db-1 \(container shop-db-1 has no node\)/);
    await host.close();
  });

  test('a container stopped mid-session: the next command fails clearly, the host is lost', async () => {
    dockerd.runContainer('busybox', 'short-lived');
    const host = await connect({ kind: 'docker', container: 'short-lived' }, dockerd.host, 'none');
    const running = host.exec({ argv: ['sleep', '30'], env: {}, cwd: '/' });
    running.stdin.end();
    dockerd.docker('stop', '-t', '1', 'short-lived');
    const status = await running.exited.catch((err: Error) => err);
    assert.ok(
      !(status instanceof Error) ? status.signal !== null || status.code !== 0 : true,
      'the running command did not finish normally',
    );
    const next = host.exec({ argv: ['true'], env: {}, cwd: '/' });
    await assert.rejects(next.exited, (err: Error & { code?: string }) =>
      /cannot run a command in container short-lived|short-lived is not running/.test(err.message),
    );
    // Not retried: a stopped container is said at once, and the host is given up.
    const started = Date.now();
    await assert.rejects(
      host.fs.call('lstat', Buffer.from('/')),
      code('E_CONNECTION_LOST', /could not be restored: container short-lived is not running/),
    );
    assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`);
    assert.equal(host.isLost, true);
    await host.close();
  });

  test('the daemon restarted (live-restore): the next command reconnects, on both tiers', async () => {
    const hosts = await Promise.all(
      (['auto', 'none'] as const).map((agent) => connect({ kind: 'docker', container: 'dev' }, dockerd.host, agent)),
    );
    try {
      await dockerd.restart();
      for (const host of hosts) {
        const p = host.exec({ argv: ['cat', '/etc/os-release'], env: {}, cwd: '/' });
        p.stdin.end();
        assert.match((await collect(p.stdout)).toString(), new RegExp(CONTAINER_OS), host.info().tier);
        assert.deepEqual(await p.exited, { code: 0, signal: null });
        assert.equal(host.isLost, false);
      }
    } finally {
      await Promise.all(hosts.map((h) => h.close()));
    }
  });

  test('mproxy exec runs in the container', (t) => {
    const root = tempTree(t, {});
    writeFileSync(join(root, 'dev.toml'), `[target]\nuri = "docker://dev"\ndocker_host = "${dockerd.host}"\n`);
    const r = spawnSync(process.execPath, [MPROXY_BIN, 'exec', 'dev.toml', '--', 'sh', '-c', 'cat /etc/os-release; exit 4'], {
      cwd: root,
      env: testEnv({ HOME: root }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 4, r.stderr);
    assert.ok(r.stdout.includes(CONTAINER_OS), r.stdout);
  });

  test('mproxy exec of one command needs no agent: the same environment, directory and status as with it', (t) => {
    const root = tempTree(t, {});
    const profile = (name: string, agent: string) => {
      writeFileSync(join(root, name), `[target]\nuri = "docker://dev"\ndocker_host = "${dockerd.host}"\nagent = "${agent}"\n`);
      return name;
    };
    const run = (file: string, input: string) =>
      spawnSync(
        process.execPath,
        [MPROXY_BIN, '--verbose', 'exec', file, '--', 'sh', '-c', 'echo "$HOME|$USER|$LOGNAME|$SHELL|$PWD|$PATH|$(cat)"; exit 5'],
        { cwd: root, env: testEnv({ HOME: root }), input, encoding: 'utf8', timeout: 60_000 },
      );
    const agentless = run(profile('auto.toml', 'auto'), 'piped');
    const agent = run(profile('node.toml', 'node'), 'piped');
    assert.equal(agentless.status, 5, agentless.stderr);
    assert.equal(agent.status, 5, agent.stderr);
    assert.match(agentless.stderr, /tier agentless on .* \(one command to run: no agent needed\)/);
    assert.doesNotMatch(agent.stderr, /tier agentless/);
    assert.match(agentless.stdout, /^\/root\|root\|root\|\/bin\/sh\|\/root\|\/[^|]*\|piped\n$/);
    assert.equal(agentless.stdout, agent.stdout);
  });
});

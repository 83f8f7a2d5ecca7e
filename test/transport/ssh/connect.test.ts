/** The ssh target against a real sshd: host keys, auth, unreachable servers, jump hosts, the agent cache, faults. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentBundle } from '../../../src/remote/agent/bundle.js';
import { collect } from '../../conformance/run.js';
import { connectSsh } from '../../../src/runner/connect.js';
import { clientHome, connectHarness, optionsFor } from '../../harness/ssh-client.js';
import { startSshd, TEST_USER, type Sshd } from '../../harness/sshd.js';
import { requireOrSkip, sshdMissing } from '../../harness/system.js';
import { errorCode } from '../../helpers/errors.js';
import { waitUntil } from '../../helpers/wait.js';

const missing = sshdMissing();

describe('ssh target', { skip: missing !== undefined && process.env['CI'] !== 'true' ? missing : false }, () => {
  let sshd: Sshd;
  before(async (t) => {
    if (!requireOrSkip(t as never, missing)) return;
    sshd = await startSshd();
  });
  after(async () => sshd?.stop());

  test('an unknown host is refused under strict, with its fingerprint and how to trust it', async () => {
    const home = clientHome(sshd);
    writeFileSync(home.knownHosts, '');
    await assert.rejects(connectHarness(sshd, home), errorCode('E_HOST_KEY_UNKNOWN', /SHA256:.*ssh-keyscan -p \d+ 127\.0\.0\.1/s));
    assert.equal(readFileSync(home.knownHosts, 'utf8'), '', 'nothing recorded');
  });

  test('accept-new records an unknown host and connects', async () => {
    const home = clientHome(sshd);
    writeFileSync(home.knownHosts, '');
    const host = await connectHarness(sshd, home, 'auto', { hostKeyPolicy: 'accept-new' });
    await host.close();
    assert.equal(readFileSync(home.knownHosts, 'utf8').trim(), `[127.0.0.1]:${sshd.port} ${sshd.hostKeyLine}`);
  });

  test('accept-new says on stderr that it recorded a key, without --verbose', async () => {
    const home = clientHome(sshd);
    writeFileSync(home.knownHosts, '');
    const said: string[] = [];
    const host = await connectHarness(sshd, home, 'none', { hostKeyPolicy: 'accept-new', warn: (m) => said.push(m) });
    await host.close();
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(
      said[0] ?? '',
      new RegExp(`permanently added the host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} \\(ssh-ed25519 SHA256:.*known_hosts`),
    );
  });

  test('@revoked refuses the key even after a line that accepts it, in any file', async () => {
    const home = clientHome(sshd);
    const system = join(home.home, 'ssh_known_hosts');
    writeFileSync(home.knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyLine}\n`);
    writeFileSync(system, `# the system file\n@revoked * ${sshd.hostKeyLine}\n`);
    for (const policy of ['strict', 'accept-new'] as const) {
      await assert.rejects(
        connectHarness(sshd, home, 'none', { hostKeyPolicy: policy, knownHostsFiles: [home.knownHosts, system] }),
        errorCode('E_HOST_KEY_CHANGED', new RegExp(`marked @revoked at ${system}:2`)),
      );
    }
  });

  test('a hashed entry matches the host name in any case: a different key there is refused, nothing recorded', async () => {
    const home = clientHome(sshd);
    const salt = randomBytes(20);
    const hashedName = createHmac('sha1', salt).update(`[localhost]:${sshd.port}`).digest('base64');
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBiXwN9sRzZ2Zkmy3i0cp6hQ0f0wHMYz2yrcbcx3AcJX';
    const before = `|1|${salt.toString('base64')}|${hashedName} ${other}\n`;
    writeFileSync(home.knownHosts, before);
    await assert.rejects(
      connectSsh(
        { user: sshd.user, host: 'LOCALHOST', port: sshd.port },
        'none',
        optionsFor(home, { hostKeyPolicy: 'accept-new', identityFile: sshd.clientKey }),
      ),
      errorCode('E_HOST_KEY_CHANGED', /HAS CHANGED.*known_hosts:1/),
    );
    assert.equal(readFileSync(home.knownHosts, 'utf8'), before, 'accept-new recorded nothing');
  });

  test('a changed host key is refused under strict and accept-new, naming the file and line', async () => {
    const home = clientHome(sshd);
    writeFileSync(
      home.knownHosts,
      `# first line\n[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBiXwN9sRzZ2Zkmy3i0cp6hQ0f0wHMYz2yrcbcx3AcJX\n`,
    );
    for (const policy of ['strict', 'accept-new'] as const) {
      await assert.rejects(
        connectHarness(sshd, home, 'auto', { hostKeyPolicy: policy }),
        errorCode('E_HOST_KEY_CHANGED', /HAS CHANGED.*known_hosts:2/),
      );
    }
  });

  test('a key the server does not accept: every credential tried is named', async () => {
    const home = clientHome(sshd);
    const wrong = join(home.home, 'wrong_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong]);
    writeFileSync(home.sshConfig, '');
    await assert.rejects(
      connectHarness(sshd, home, 'auto', { identityFile: wrong }),
      errorCode('E_SSH_AUTH', /refused every credential offered \(tried: key .*wrong_key\).*authorized_keys/s),
    );
  });

  test('an encrypted key without a terminal to ask on: says so and how to fix it', async () => {
    const home = clientHome(sshd);
    const locked = join(home.home, 'locked_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret phrase', '-f', locked]);
    writeFileSync(home.sshConfig, '');
    await assert.rejects(
      connectHarness(sshd, home, 'auto', { identityFile: locked }),
      errorCode('E_SSH_AUTH', /locked_key is encrypted and there is no terminal to ask for its passphrase \(add it to ssh-agent: ssh-add /),
    );
  });

  test('an encrypted key with its passphrase given at the prompt', async () => {
    const home = clientHome(sshd);
    const locked = join(home.home, 'locked_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret phrase', '-f', locked]);
    execFileSync('sh', ['-c', `cat ${locked}.pub >> ${join(sshd.dir, 'authorized_keys')}`]);
    writeFileSync(home.sshConfig, '');
    const asked: string[] = [];
    const host = await connectHarness(sshd, home, 'auto', {
      identityFile: locked,
      askPassphrase: async (path) => (asked.push(path), 'secret phrase'),
    });
    assert.deepEqual(asked, [locked]);
    await host.close();
    // A person slower than connect_timeout at the prompt: the time spent typing does not count.
    const slow = await connectHarness(sshd, home, 'none', {
      identityFile: locked,
      connectTimeoutMs: 1000,
      askPassphrase: async () => (await sleep(2000), 'secret phrase'),
    });
    await slow.close();
  });

  test('ssh-agent: its key logs in with no key file; an agent with no key the server takes is named', async () => {
    const home = clientHome(sshd);
    writeFileSync(home.sshConfig, '');
    const socket = join(home.home, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await waitUntil('ssh-agent listening', () => existsSync(socket));
      const env = { ...process.env, SSH_AUTH_SOCK: socket };
      const refused = await connectHarness(sshd, home, 'auto', { agentSocket: socket }).then(
        () => 'connected',
        (err: Error) => err.message,
      );
      assert.match(refused, /refused every credential offered \(tried: ssh-agent \(.*agent\.sock\)/);
      const key = join(home.home, 'agent_key');
      execFileSync('cp', [sshd.clientKey, key]);
      execFileSync('chmod', ['600', key]);
      execFileSync('ssh-add', ['-q', key], { env });
      rmSync(key);
      const host = await connectHarness(sshd, home, 'auto', { agentSocket: socket });
      assert.equal((await collect(host.exec({ argv: ['true'], env: {}, cwd: '/' }).stdout)).length, 0);
      await host.close();
    } finally {
      agent.kill();
    }
  });

  test('no key at all', async () => {
    const home = clientHome(sshd);
    writeFileSync(home.sshConfig, '');
    await assert.rejects(connectHarness(sshd, home), errorCode('E_SSH_AUTH', /\(none found\)/));
  });

  test('a closed port fails at once; a silent server within connect_timeout', async () => {
    const home = clientHome(sshd);
    const server: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    server.close();
    const started = Date.now();
    await assert.rejects(connectHarness({ ...sshd, port }, home), errorCode('E_SSH_CONNECT', /refused the connection on port/));
    assert.ok(Date.now() - started < 3000);
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    await assert.rejects(
      connectHarness({ ...sshd, port: silentPort }, home, 'auto', { connectTimeoutMs: 1000 }),
      errorCode('E_SSH_CONNECT', /within 1s/),
    );
    assert.ok(Date.now() - t0 < 5000, 'gave up near connect_timeout');
    silent.close();
  });

  test('a host name that does not resolve is named, at once', async () => {
    // RFC 6761: .invalid never resolves, and resolvers answer it without asking the network.
    const started = Date.now();
    await assert.rejects(
      connectSsh({ user: 'someone', host: 'no-such-host.invalid' }, 'auto', optionsFor(clientHome(sshd))),
      errorCode('E_SSH_CONNECT', /cannot resolve host name no-such-host\.invalid/),
    );
    assert.ok(Date.now() - started < 5000);
  });

  test('a jump host (ProxyJump) leads to the target', async () => {
    const home = clientHome(sshd);
    const host = await connectHarness(sshd, home, 'auto', { jump: `127.0.0.1:${sshd.port}` });
    const proc = host.exec({ argv: ['cat', '/etc/os-release'], env: {}, cwd: '/' });
    proc.stdin.end();
    assert.match((await collect(proc.stdout)).toString(), /mproxy test remote/);
    await host.close();
  });

  test('the agent is cached by content; concurrent sessions share it', async () => {
    const home = clientHome(sshd);
    const hosts = await Promise.all([connectHarness(sshd, home), connectHarness(sshd, home), connectHarness(sshd, home)]);
    await Promise.all(hosts.map((h) => h.close()));
    const cached = execFileSync('ls', [`/home/${TEST_USER}/.cache/mproxy`], { encoding: 'utf8' });
    assert.match(cached, new RegExp(agentBundle().cacheName));
    assert.doesNotMatch(cached, /\.upload\./, 'no temporary file left behind');
  });

  test('a damaged cached agent is replaced, not run', async () => {
    const home = clientHome(sshd);
    await (await connectHarness(sshd, home)).close();
    const cached = `/home/${TEST_USER}/.cache/mproxy/${agentBundle().cacheName}`;
    writeFileSync(cached, 'garbage that is not the agent');
    const said: string[] = [];
    const host = await connectHarness(sshd, home, 'auto', { verbose: (m) => said.push(m) });
    assert.equal(host.info().tier, 'agent');
    assert.match(said.join('\n'), /uploading the agent/);
    assert.ok(readFileSync(cached).equals(agentBundle().bytes));
    await host.close();
  });
});

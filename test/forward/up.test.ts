/**
 * What `mproxy up` forwards for its run, end to end: a listener a remote command opens is
 * forwarded here automatically and said once; `forward_agent` lets a remote `ssh-add -l` see this
 * machine's agent; the built-in proxy lets a remote fetch through this machine (the local
 * server sees it came through the proxy).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IN_CI } from '../harness/system.js';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { waitUntil, within } from '../helpers/wait.js';
import { dockerTarget, localTarget, sshTarget, type UpTarget } from '../runner/up-backends.js';

const TARGETS: [() => UpTarget, { sshAdd: boolean }][] = [
  [localTarget, { sshAdd: true }],
  [() => sshTarget('node'), { sshAdd: true }],
  [() => sshTarget('none'), { sshAdd: true }],
  [() => dockerTarget('node'), { sshAdd: false }],
];

function up(
  profile: string,
  home: string,
  script: string,
  env: Record<string, string> = {},
): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MPROXY_BIN, 'up', profile, '--', 'sh', '-c', script], {
    cwd: home,
    env: testEnv({ HOME: home, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, out: () => out, err: () => err, exited };
}

for (const [make, can] of TARGETS) {
  const target = make();
  describe(`mproxy up forwards: ${target.name}`, { skip: target.missing !== undefined && !IN_CI ? target.missing : false }, () => {
    let base = '';
    let home = '';
    before(async () => {
      if (target.missing !== undefined) throw new Error(target.missing);
      ({ profile: base, home } = await target.start());
    });
    after(() => target.stop());
    /** The target's profile, with busybox running remote (the test profiles keep it local) and `extra`. */
    const profile = (name: string, extra = ''): string => {
      const file = join(home, `${name}.toml`);
      writeFileSync(file, `extends = "${base}"\n${extra}\n[sandbox]\nlocal_commands = ["node"]\n`);
      return file;
    };

    test('a listener a remote command opens is forwarded here and said once', async () => {
      const token = randomBytes(6).toString('hex');
      const port = await freePort();
      const dir = `/tmp/mproxy-auto-${token}`;
      const run = up(
        profile('auto'),
        home,
        // The inner sh is a child of the program: it, and what it writes, runs remote.
        `sh -c 'mkdir -p ${dir} && echo "served there ${token}" > ${dir}/f.txt && ` +
          `exec busybox httpd -f -p 127.0.0.1:${port} -h ${dir}' & ` +
          `sleep 8; kill $! 2>/dev/null; rm -rf ${dir}`,
      );
      const said = await waitUntil(
        'the forward announced',
        () => new RegExp(`forwarded :${port} → http://127\\.0\\.0\\.1:(\\d+)`).exec(run.err())?.[1],
        {
          timeoutMs: 20_000,
        },
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${run.err()}`);
      });
      assert.equal(await (await fetch(`http://127.0.0.1:${said}/f.txt`)).text(), `served there ${token}\n`);
      assert.equal(await within(run.exited, 30_000, 'up ending'), 0, run.err());
      assert.equal(run.err().match(new RegExp(`forwarded :${port} `, 'g'))?.length, 1, 'said once');
    });

    test('the built-in proxy: a remote command fetches from here through it', async () => {
      const token = randomBytes(6).toString('hex');
      let via = '';
      const here = createHttp((req, res) => {
        via = String(req.headers['via'] ?? '');
        res.end(`fetched through this machine ${token}\n`);
      }).listen(0, '0.0.0.0');
      await new Promise((r) => here.once('listening', r));
      const hp = (here.address() as { port: number }).port;
      const rp = await freePort();
      const run = up(
        profile('proxy', `[[forwards]]\nremote = ${rp}\ndirection = "to-local"\nservice = "http-proxy"\n`),
        home,
        // An inner sh: the program's own builtins see its environment, remote commands theirs.
        `sh -c 'echo "$HTTP_PROXY"'; busybox wget -qO- http://${hostname()}:${hp}/x`,
      );
      try {
        assert.equal(await within(run.exited, 30_000, 'up ending'), 0, run.err());
        assert.equal(run.out(), `http://127.0.0.1:${rp}\nfetched through this machine ${token}\n`);
        assert.equal(via, '1.1 mproxy', 'the request came through the proxy');
      } finally {
        here.close();
      }
    });

    // Only where the remote has ssh-add (not the busybox-and-node container).
    if (can.sshAdd)
      test('forward_agent: a remote ssh-add -l sees the key of the agent here', async () => {
        const sock = join(home, `agent-${process.pid}.sock`);
        const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
        try {
          await waitUntil('ssh-agent listening', () => spawnSync('test', ['-S', sock]).status === 0);
          const key = join(home, 'fwd_key');
          spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'forwarded-key', '-f', key]);
          assert.equal(spawnSync('ssh-add', [key], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status, 0);
          const run = up(profile('agent', '[run]\nforward_agent = true\n'), home, 'ssh-add -l', { SSH_AUTH_SOCK: sock });
          assert.equal(await within(run.exited, 30_000, 'up ending'), 0, run.err());
          assert.match(run.out(), /^256 SHA256:\S+ forwarded-key \(ED25519\)$/m);
        } finally {
          agent.kill();
        }
      });
  });
}

/**
 * `mproxy mcp` when things go wrong under it, on the harness sshd: the link cut during a call
 * (that call is an error result, promptly; the next one reconnects), and a client that simply
 * closes stdin (the server ends, 0).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clientHome } from '../harness/ssh-client.js';
import { startSshd, TEST_USER, type Sshd } from '../harness/sshd.js';
import { IN_CI, sshdMissing } from '../harness/system.js';
import { MPROXY_BIN, testEnv } from '../helpers/cli.js';
import { waitUntil, within } from '../helpers/wait.js';
import { mcpSession, type McpSession } from './client.js';

const missing = sshdMissing();

describe('mproxy mcp over ssh when the link fails', { skip: missing !== undefined && !IN_CI ? missing : false }, () => {
  let sshd: Sshd;
  let s: McpSession;
  let profile = '';
  let home = '';
  before(async () => {
    if (missing !== undefined) throw new Error(missing);
    sshd = await startSshd();
    home = clientHome(sshd).home;
    const remote = `/home/${TEST_USER}/mcp-faults`;
    mkdirSync(remote, { recursive: true });
    writeFileSync(join(remote, 'kept.txt'), 'still readable\n');
    const owner = statSync(`/home/${TEST_USER}`);
    chownSync(remote, owner.uid, owner.gid);
    chownSync(join(remote, 'kept.txt'), owner.uid, owner.gid);
    profile = join(home, 'box.toml');
    writeFileSync(profile, `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n[[mounts]]\nremote = "${remote}"\n`);
    s = await mcpSession(profile, { cwd: home, env: testEnv({ HOME: home }) });
  });
  after(async () => {
    await s?.close();
    await sshd?.stop();
  });

  test('the link cut during a call: an error result at once, and the next call reconnects', async () => {
    assert.equal((await s.call('run_shell_command', { command: 'echo before' })).fields['stdout'], 'before\n');
    const calling = s.call('run_shell_command', { command: 'sleep 30' });
    await waitUntil('the command running on the remote', () => sshd.processes(/^sleep 30$/).length > 0);
    const cut = Date.now();
    assert.ok(sshd.killBelow() > 0, 'a connection was cut');
    const r = await within(calling, 15_000, 'the interrupted call answering');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^run_shell_command: .*(closed|lost)/);
    assert.ok(Date.now() - cut < 10_000, `answered after ${Date.now() - cut} ms`);
    assert.equal((await s.call('run_shell_command', { command: 'echo after' })).fields['stdout'], 'after\n');
    assert.equal((await s.call('read_file', { path: 'kept.txt' })).text, 'still readable\n');
  });

  test('a client that closes stdin ends the server, exit 0', async () => {
    const child = spawn(process.execPath, [MPROXY_BIN, 'mcp', profile], {
      cwd: home,
      env: testEnv({ HOME: home }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    child.stdin.write(`${JSON.stringify(init)}\n`);
    await waitUntil('the initialize answer', () => out.includes('"serverInfo"'), { timeoutMs: 20_000 });
    child.stdin.end();
    assert.equal(await within(exited, 10_000, 'mproxy mcp ending when stdin closes'), 0);
  });
});

/**
 * `mproxy mcp --http`: the SDK's Streamable HTTP client with the right token, raw requests with
 * a wrong or missing one (401, nothing more), a port in use, the generated token printed once,
 * Ctrl-C ending it; and every call of a session in the recording `mproxy log` reads.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MPROXY_BIN, runMproxy, testEnv } from '../helpers/cli.js';
import { tempTree } from '../helpers/tmp.js';
import { waitUntil, within } from '../helpers/wait.js';
import { called, mcpSession } from './client.js';

const TOKEN = 'test-token-0123456789abcdef';

function workspace(t: TestContext): { root: string; profile: string } {
  const root = tempTree(t, { 'ws/hello.txt': 'hello over http\n' });
  const profile = join(root, 'p.toml');
  writeFileSync(profile, `[target]\nuri = "local"\n[[mounts]]\nremote = "${root}/ws"\nlocal = "${root}/view"\n`);
  return { root, profile };
}

async function serve(t: TestContext, profile: string, args: readonly string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [MPROXY_BIN, 'mcp', profile, ...args], {
    env: testEnv({ HOME: '/tmp', MCP_TOKEN: TOKEN, ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.after(() => void child.kill('SIGKILL'));
  const url = await waitUntil('mproxy mcp listening', () => /MCP at (\S+)/.exec(err)?.[1], { timeoutMs: 20_000 }).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${err}`);
  });
  return { child, url, exited, stderr: () => err };
}

test('HTTP with the right token: the tools work; a wrong or missing token is refused without detail', async (t) => {
  const { profile } = workspace(t);
  const { url, child, exited } = await serve(t, profile, ['--http', '127.0.0.1:0', '--token-env', 'MCP_TOKEN']);
  const client = new Client({ name: 'http-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  const r = called((await client.callTool({ name: 'read_file', arguments: { path: 'hello.txt' } })) as CallToolResult);
  assert.equal(r.text, 'hello over http\n');
  await client.close();
  const init = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
  });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  for (const auth of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN]) {
    const res = await fetch(url, {
      method: 'POST',
      body: init,
      headers: { ...headers, ...(auth !== undefined ? { authorization: auth } : {}) },
    });
    assert.equal(res.status, 401, String(auth));
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.doesNotMatch(await res.text(), /token|mproxy|tool/i, 'no detail');
  }
  const wrong = new Client({ name: 'wrong', version: '1' });
  await assert.rejects(
    wrong.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: 'Bearer nope' } } })),
  );
  assert.equal((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 405, 'GET: no sessions to stream');
  child.kill('SIGINT');
  assert.equal(await within(exited, 10_000, 'mproxy mcp ending on Ctrl-C'), 0);
});

test('HTTP: a generated token is printed once; a port in use is said and exits 125; a short token is refused', async (t) => {
  const { profile } = workspace(t);
  const first = await serve(t, profile, ['--http', '0']);
  const token = /token \(send "Authorization: Bearer TOKEN"\): (\S+)/.exec(first.stderr())?.[1] ?? '';
  assert.ok(token.length >= 24, first.stderr());
  const port = new URL(first.url).port;
  const busy = runMproxy(['mcp', profile, '--http', port], { env: testEnv({ HOME: '/tmp' }) });
  assert.equal(busy.code, 125);
  assert.match(busy.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
  const short = runMproxy(['mcp', profile, '--http', '0', '--token-env', 'SHORT'], { env: testEnv({ HOME: '/tmp', SHORT: 'abc' }) });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /SHORT must hold a token of at least 16 characters/);
  assert.equal(runMproxy(['mcp', profile, '--http', 'nonsense:x']).code, 2);
});

test('every call is recorded: shell commands as themselves, file tools by name and path; mproxy log lists them', async (t) => {
  const { root, profile } = workspace(t);
  const recordings = join(root, 'REC');
  mkdirSync(recordings);
  writeFileSync(
    profile,
    `[target]\nuri = "local"\n[[mounts]]\nremote = "${root}/ws"\nlocal = "${root}/view"\n` +
      `[recording]\nmode = "full"\npath = "${recordings}/{profile}-{time}.cbor"\n`,
  );
  const s = await mcpSession(profile, { cwd: root, env: testEnv({ HOME: root }) });
  assert.equal((await s.call('run_shell_command', { command: 'echo audited' })).fields['stdout'], 'audited\n');
  assert.equal((await s.call('read_file', { path: 'hello.txt' })).isError, false);
  assert.equal((await s.call('read_file', { path: '/etc/shadow' })).isError, true);
  await s.close();
  const [file] = readdirSync(recordings).filter((f) => f.endsWith('.cbor'));
  assert.ok(file !== undefined, `a recording in ${recordings}`);
  const log = runMproxy(['log', join(recordings, file), '--json'], { env: testEnv({ HOME: root }) });
  assert.equal(log.code, 0, log.stderr);
  const commands = log.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { argv: string[]; exitCode: number | null });
  assert.deepEqual(
    commands.map((c) => [c.argv.join(' '), c.exitCode]),
    [
      ['/bin/sh -c echo audited', 0],
      [`mcp:read_file path=hello.txt`, 0],
      ['mcp:read_file path=/etc/shadow', 1],
    ],
  );
  const shown = runMproxy(['log', join(recordings, file), '--show', '1'], { env: testEnv({ HOME: root }) });
  assert.equal(shown.stdout, 'audited\n');
});

test('[mcp] settings: confine = false reaches outside the mounts; max_output sets the cap', async (t) => {
  const { root, profile } = workspace(t);
  const s = await mcpSession(profile, {
    cwd: root,
    env: testEnv({ HOME: root }),
    args: ['--set', 'mcp.confine=false', '--set', 'mcp.max_output=1KiB'],
  });
  t.after(() => s.close());
  assert.equal((await s.call('read_file', { path: '/etc/os-release' })).isError, false, 'outside the mounts, by choice');
  const big = await s.call('run_shell_command', { command: 'head -c 5000 /dev/zero' });
  assert.equal(String(big.fields['stdout']).length, 1024);
  assert.equal(big.fields['stdout_truncated'], true);
});

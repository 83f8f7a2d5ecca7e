/**
 * `mproxy mcp` end to end with the MCP SDK's own client over stdio, against every target (local,
 * ssh with the agent and agentless, docker with the agent and agentless): every tool, exit
 * codes and signals, the output cap and timeouts, the env policy, confinement to the mounts,
 * and malformed calls answered as error results.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IN_CI } from '../harness/system.js';
import { testEnv } from '../helpers/cli.js';
import { UP_TARGETS } from '../runner/up-backends.js';
import { mcpSession, type McpSession } from './client.js';

const TOOLS = ['run_shell_command', 'read_file', 'write_file', 'list_directory', 'edit_file', 'search', 'stat'];

for (const make of UP_TARGETS) {
  const target = make();
  describe(`mproxy mcp: ${target.name}`, { skip: target.missing !== undefined && !IN_CI ? target.missing : false }, () => {
    let s: McpSession;
    let local = '';
    before(async () => {
      if (target.missing !== undefined) throw new Error(target.missing);
      const started = await target.start();
      local = started.local;
      s = await mcpSession(started.profile, { cwd: started.home, env: testEnv({ HOME: started.home, SECRET_TOKEN: 'hunter2' }) });
    });
    after(async () => {
      await s?.close();
      await target.stop();
    });
    const sh = async (command: string, extra: Record<string, unknown> = {}) => s.call('run_shell_command', { command, ...extra });

    test('the seven tools, each with a schema for its arguments and for its result', async () => {
      const { tools } = await s.client.listTools();
      assert.deepEqual(
        tools.map((t) => t.name),
        TOOLS,
      );
      for (const t of tools) {
        assert.equal(t.inputSchema.type, 'object', t.name);
        assert.equal(t.outputSchema?.type, 'object', t.name);
        assert.ok((t.description ?? '').length > 40, t.name);
      }
    });

    test('run_shell_command: stdout, stderr and exit code, in the workspace, secrets kept here', async () => {
      const r = await sh('cat file.txt; echo to-err >&2; echo "token=${SECRET_TOKEN:-unset}"; exit 3');
      assert.equal(r.isError, false, r.text);
      assert.equal(r.fields['exit_code'], 3);
      assert.equal(r.fields['status'], 3);
      assert.equal(r.fields['stdout'], 'data from the workspace\ntoken=unset\n');
      assert.equal(r.fields['stderr'], 'to-err\n');
      assert.match(r.text, /data from the workspace\ntoken=unset\n--- stderr ---\nto-err\n--- exit code 3 \(\d+ ms\) ---$/);
    });

    test('run_shell_command: death by signal, stdin, a timeout, output past the cap', async () => {
      const killed = await sh('kill -TERM $$');
      assert.deepEqual([killed.fields['exit_code'], killed.fields['signal'], killed.fields['status']], [null, 'SIGTERM', 143]);
      assert.equal((await sh('wc -c', { stdin: 'abc' })).fields['stdout']?.toString().trim(), '3');
      const started = Date.now();
      const late = await sh('sleep 30', { timeout: 1 });
      assert.equal(late.fields['timed_out'], true);
      assert.ok(Date.now() - started < 6000, `stopped after ${Date.now() - started} ms`);
      const big = await sh("head -c 3000000 /dev/zero | tr '\\0' a");
      assert.equal(big.fields['stdout_truncated'], true);
      assert.equal(String(big.fields['stdout']).length, 1024 * 1024, 'the default cap, 1 MiB');
      assert.match(big.text, /\[cut: 1951424 more bytes not shown\]/);
    });

    test('read_file: text with offset and limit; a binary file refused, or base64 on request', async () => {
      await sh("printf 'one\\ntwo\\nthree\\n' > lines.txt; printf '\\000\\001' > bin");
      const two = await s.call('read_file', { path: 'lines.txt', offset: 2, limit: 1 });
      assert.equal(two.text, 'two\n');
      assert.deepEqual(
        [two.fields['total_lines'], two.fields['first_line'], two.fields['last_line'], two.fields['truncated']],
        [3, 2, 2, true],
      );
      const refused = await s.call('read_file', { path: 'bin' });
      assert.equal(refused.isError, true);
      assert.match(refused.text, /binary file \(2 bytes\)[\s\S]*encoding: "base64"/);
      assert.equal((await s.call('read_file', { path: 'bin', encoding: 'base64' })).fields['content'], 'AAE=');
    });

    test('write_file and edit_file: what they write is on the remote; an edit must be unique', async () => {
      const noParent = await s.call('write_file', { path: 'new/deep/f.txt', content: 'x' });
      assert.equal(noParent.isError, true);
      assert.match(noParent.text, /create_parents/);
      const made = await s.call('write_file', { path: 'new/deep/f.txt', content: 'a x b x\n', create_parents: true });
      assert.equal(made.fields['created'], true, made.text);
      assert.equal((await sh('cat new/deep/f.txt')).fields['stdout'], 'a x b x\n');
      const twice = await s.call('edit_file', { path: 'new/deep/f.txt', old_string: 'x', new_string: 'y' });
      assert.match(twice.text, /occurs 2 times/);
      assert.equal(
        (await s.call('edit_file', { path: 'new/deep/f.txt', old_string: 'x', new_string: 'y', replace_all: true })).fields['replacements'],
        2,
      );
      assert.match((await s.call('edit_file', { path: 'new/deep/f.txt', old_string: 'zzz', new_string: 'q' })).text, /not found/);
      assert.equal((await sh('cat new/deep/f.txt')).fields['stdout'], 'a y b y\n');
      await sh('chmod 750 build.sh');
      assert.equal((await s.call('write_file', { path: 'build.sh', content: '#!/bin/sh\necho rewritten\n' })).fields['created'], false);
      assert.equal((await s.call('stat', { path: 'build.sh' })).fields['mode'], '0750', 'a replaced file keeps its mode');
      assert.equal((await sh('./build.sh')).fields['stdout'], 'rewritten\n');
      assert.equal((await sh('ls -a new/deep')).fields['stdout'], '.\n..\nf.txt\n', 'no temporary file left beside it');
    });

    test('list_directory, stat and search', async () => {
      const listed = await s.call('list_directory', { depth: 2 });
      const names = (listed.fields['entries'] as { name: string; type: string }[]).map((e) => `${e.name}:${e.type}`);
      for (const n of ['file.txt:file', 'sub:directory', 'sub/Makefile:file']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
      const st = await s.call('stat', { path: 'file.txt' });
      assert.deepEqual([st.fields['type'], st.fields['size']], ['file', 24]);
      const found = await s.call('search', { pattern: 'from the work(space)?' });
      assert.deepEqual(
        (found.fields['matches'] as { path: string; line: number }[]).filter((m) => m.path.endsWith('/file.txt')).map((m) => m.line),
        [1],
      );
      assert.match((await s.call('search', { pattern: 'no-such-text-anywhere' })).text, /^no match under /);
    });

    test('confinement: /etc/shadow, ../ escapes and symlinks pointing out are refused; local mount paths work', async () => {
      const shadow = await s.call('read_file', { path: '/etc/shadow' });
      assert.equal(shadow.isError, true);
      assert.match(shadow.text, /\/etc\/shadow is outside the mounts; allowed: \//);
      assert.match((await s.call('read_file', { path: '../../../etc/passwd' })).text, /outside the mounts/);
      await sh('ln -sf /etc out-link');
      assert.match((await s.call('read_file', { path: 'out-link/passwd' })).text, /leads to \/etc\/passwd, outside the mounts/);
      assert.match((await s.call('write_file', { path: 'out-link/evil', content: 'x' })).text, /outside the mounts/);
      assert.match((await s.call('list_directory', { path: '/' })).text, /outside the mounts/);
      const link = await s.call('stat', { path: 'out-link' });
      assert.deepEqual([link.fields['type'], link.fields['link_target']], ['symlink', '/etc'], 'the link itself may be looked at');
      assert.equal((await s.call('read_file', { path: `${local}/file.txt` })).text, 'data from the workspace\n', 'a local mount path maps');
    });

    test('malformed calls are error results, and the server goes on', async () => {
      assert.match((await s.call('read_file', { path: 5 })).text, /invalid arguments: path must be string/);
      assert.match((await s.call('run_shell_command', {})).text, /invalid arguments: arguments must have required property 'command'/);
      assert.match((await s.call('stat', { path: 'x', extra: 1 })).text, /must NOT have additional properties/);
      assert.match((await s.call('no_such_tool', {})).text, /no tool named no_such_tool/);
      assert.equal((await sh('echo still here')).fields['stdout'], 'still here\n');
    });
  });
}

/**
 * bench/mcp: a live `mproxy mcp` session (the built CLI over stdio, driven by the MCP SDK's own
 * client, agent and agentless tiers) against OpenSSH over a ControlMaster on the harness sshd,
 * side by side in one run:
 *   - run_shell_command `true` vs `ssh host true`
 *   - read_file of a 1 MiB text file vs `ssh host cat F` — the comparison, a new ssh
 *     connection as a user types it — and vs the same over the ControlMaster (stricter)
 * Medians of BENCH_RUNS (40) alternating runs; ratios are mproxy / OpenSSH (lower is better).
 * Not a test: no assertions.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { testEnv } from '../test/helpers/cli.js';
import { clientHome, opensshArgs } from '../test/harness/ssh-client.js';
import { startSshd, TEST_USER } from '../test/harness/sshd.js';
import { mcpSession, type McpSession } from '../test/mcp/client.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 40);
const SIZE = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed(f: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

function ssh(args: readonly string[], command: string[]): void {
  const r = spawnSync('ssh', [...args, ...command], { maxBuffer: 4 * SIZE });
  if (r.status !== 0) throw new Error(`ssh failed: ${r.stderr.toString()}`);
}

const sshd = await startSshd();
try {
  const home = clientHome(sshd);
  const remote = `/home/${TEST_USER}/bench-mcp`;
  mkdirSync(remote, { recursive: true });
  // A text file of exactly 1 MiB: lines of printable characters.
  const line = `${'x'.repeat(63)}\n`;
  writeFileSync(join(remote, 'big.txt'), line.repeat(SIZE / line.length));
  const owner = statSync(`/home/${TEST_USER}`);
  for (const p of [remote, join(remote, 'big.txt')]) chownSync(p, owner.uid, owner.gid);
  const sshArgs = [
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${join(home.home, 'cm-%C')}`,
    '-o',
    'ControlPersist=120',
    ...opensshArgs(sshd, home),
  ];
  ssh(sshArgs, ['true']); // the master
  const sessions: [string, McpSession][] = [];
  for (const agent of ['node', 'none'] as const) {
    const profile = join(home.home, `bench-${agent}.toml`);
    writeFileSync(
      profile,
      `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\nagent = "${agent}"\n[[mounts]]\nremote = "${remote}"\n`,
    );
    sessions.push([
      agent === 'node' ? 'agent' : 'agentless',
      await mcpSession(profile, { cwd: home.home, env: testEnv({ HOME: home.home }) }),
    ]);
  }
  const shell = (s: McpSession) => async () => {
    const r = await s.call('run_shell_command', { command: 'true' });
    if (r.fields['exit_code'] !== 0) throw new Error(r.text);
  };
  const read = (s: McpSession) => async () => {
    const r = await s.call('read_file', { path: 'big.txt' });
    if (String(r.fields['content']).length !== SIZE) throw new Error(r.text.slice(0, 200));
  };
  for (const [, s] of sessions) for (const f of [shell(s), read(s)]) await f(); // warm
  const results: Record<string, number[]> = {};
  const add = (k: string, ms: number): void => void (results[k] ??= []).push(ms);
  for (let i = 0; i < RUNS; i++) {
    for (const [tier, s] of sessions) {
      add(`true ${tier}`, await timed(shell(s)));
      add(`read ${tier}`, await timed(read(s)));
    }
    add('true ssh', await timed(() => ssh(sshArgs, ['true'])));
    add('read ssh', await timed(() => ssh(sshArgs, ['cat', join(remote, 'big.txt')])));
    if (i % 4 === 0) add('read new-ssh', await timed(() => ssh(opensshArgs(sshd, home), ['cat', join(remote, 'big.txt')])));
  }
  const m = (k: string): number => median(results[k] ?? []);
  console.log(`bench/mcp: medians of ${RUNS}, a live mproxy mcp session (SDK client, stdio) vs OpenSSH on the same sshd`);
  const rows = [
    ['run_shell_command true', 'true', 'true ssh', 'ssh -o ControlMaster host true'],
    ['read_file 1 MiB', 'read', 'read new-ssh', 'ssh host cat F (new connection)'],
    ['read_file 1 MiB', 'read', 'read ssh', 'ssh -o ControlMaster host cat F'],
  ] as const;
  for (const [what, key, baseKey, baseName] of rows) {
    const base = m(baseKey);
    console.log(`  ${what}: ${baseName} ${base.toFixed(1)} ms`);
    for (const [tier] of sessions) {
      const v = m(`${key} ${tier}`);
      console.log(`    mproxy ${tier.padEnd(9)} ${v.toFixed(1)} ms  ${(v / base).toFixed(2)}x  (target ≤ 1.0x)`);
    }
  }
  for (const [, s] of sessions) await s.close();
} finally {
  await sshd.stop();
}

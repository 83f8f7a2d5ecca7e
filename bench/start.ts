/**
 * bench/start: how fast the mproxy command line answers, as scripts, CI and shell completion
 * meet it — each figure the median of fresh processes, side by side with what a user would
 * otherwise run, in one run:
 *   - `mproxy --version` and `mproxy validate` of one profile (targets: 0.2 s, 0.3 s)
 *   - a cold `mproxy exec P -- true` over SSH against `ssh host true` (target <= 1.3x), on the
 *     harness sshd; and on Docker against `docker exec C true` (target <= 3x), on the harness dockerd
 * mproxy runs as its installed bin starts it (node --initial-old-space-size=64, its first line).
 * Not a test: no assertions.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDockerd } from '../test/harness/dockerd.js';
import { clientHome, opensshArgs } from '../test/harness/ssh-client.js';
import { startSshd } from '../test/harness/sshd.js';
import { MPROXY_ARGV } from '../test/helpers/cli.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 9);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Median wall time (ms) of `argv` run afresh RUNS times; it must exit 0. */
function timed(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(argv[0] ?? '', argv.slice(1), { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${String(r.status)}: ${r.stderr.toString()}`);
  }
  return median(times);
}

const line = (what: string, ms: number, target: string): void => console.log(`${what.padEnd(44)} ${(ms / 1000).toFixed(3)} s   ${target}`);
const ratio = (what: string, ours: number, theirs: number, other: string, target: number): void =>
  console.log(
    `${what.padEnd(44)} ${(ours / 1000).toFixed(3)} s vs ${other} ${(theirs / 1000).toFixed(3)} s = ` +
      `${(ours / theirs).toFixed(2)}x   target <= ${target}x ${ours / theirs <= target ? 'met' : 'MISSED'}`,
  );

const work = mkdtempSync(join(tmpdir(), 'mproxy-bench-start-'));
try {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: work,
    MPROXY_USER_CONFIG: '/nonexistent',
    MPROXY_SYSTEM_CONFIG: '/nonexistent',
  };
  writeFileSync(join(work, 'box.toml'), '[target]\nuri = "ssh://builder@build01"\n[[mounts]]\nremote = "/srv/fw"\n');
  console.log(`fresh processes, median of ${RUNS} (node alone: ${(timed([process.execPath, '-e', '0'], env, work) / 1000).toFixed(3)} s)`);
  line('mproxy --version', timed([process.execPath, ...MPROXY_ARGV, '--version'], env, work), 'target <= 0.2 s');
  line('mproxy validate box.toml', timed([process.execPath, ...MPROXY_ARGV, 'validate', 'box.toml'], env, work), 'target <= 0.3 s');

  const sshd = await startSshd();
  try {
    const home = clientHome(sshd);
    writeFileSync(join(work, 'ssh.toml'), `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n`);
    const sshEnv = { ...env, HOME: home.home };
    // The agent is cached on the remote after the first run, as for a user's second command.
    spawnSync(process.execPath, [...MPROXY_ARGV, 'exec', 'ssh.toml', '--', 'true'], { env: sshEnv, cwd: work });
    const ours = timed([process.execPath, ...MPROXY_ARGV, 'exec', 'ssh.toml', '--', 'true'], sshEnv, work);
    const ssh = timed(['ssh', ...opensshArgs(sshd, home), 'true'], sshEnv, work);
    ratio('cold mproxy exec ssh.toml -- true', ours, ssh, 'ssh host true', 1.3);
  } finally {
    await sshd.stop();
  }

  const dockerd = await startDockerd();
  try {
    dockerd.runContainer('node', 'bench');
    writeFileSync(join(work, 'docker.toml'), `[target]\nuri = "docker://bench"\ndocker_host = "${dockerd.host}"\n`);
    spawnSync(process.execPath, [...MPROXY_ARGV, 'exec', 'docker.toml', '--', 'true'], { env, cwd: work });
    const ours = timed([process.execPath, ...MPROXY_ARGV, 'exec', 'docker.toml', '--', 'true'], env, work);
    const docker = timed(['docker', '-H', dockerd.host, 'exec', 'bench', 'true'], env, work);
    ratio('cold mproxy exec docker.toml -- true', ours, docker, 'docker exec C true', 3);
  } finally {
    await dockerd.stop();
  }
  console.log('mproxy exec through a live session (ControlMaster-style reuse): not built yet');
} finally {
  rmSync(work, { recursive: true, force: true });
}

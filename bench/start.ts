/**
 * bench/start: how fast the mproxy command line answers, as scripts, CI and shell completion
 * meet it — each figure the median of fresh processes, side by side with what a user would
 * otherwise run, in one run:
 *   - `mproxy --version` and `mproxy validate` of one profile (targets: 0.2 s, 0.3 s)
 *   - a cold `mproxy exec P -- true` over SSH against `ssh host true` (target <= 1.3x), on the
 *     harness sshd; and on Docker against `docker exec C true` (target <= 3x), on the harness dockerd
 *   - `mproxy exec P -- true` through a live session (an `mproxy mount` of P running) against
 *     `ssh host true` over a ControlMaster (target <= 1.0x), on the harness sshd
 * mproxy runs as npm installs it: a symlink to the package's bin/mproxy.
 * Not a test: no assertions.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDockerd } from '../test/harness/dockerd.js';
import { clientHome, opensshArgs } from '../test/harness/ssh-client.js';
import { startSshd } from '../test/harness/sshd.js';
import { REPO_ROOT } from '../test/helpers/cli.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 9);
/** Commands of a few milliseconds are timed more often. */
const FAST_RUNS = RUNS * 6;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Median wall time (ms) of `argv` run afresh RUNS times; it must exit 0. */
function timed(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string, runs = RUNS): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
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
    `${what.padEnd(44)} ${(ours / 1000).toFixed(4)} s vs ${other} ${(theirs / 1000).toFixed(4)} s = ` +
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
  const mproxy = join(work, 'mproxy');
  symlinkSync(join(REPO_ROOT, 'bin', 'mproxy'), mproxy);
  writeFileSync(join(work, 'box.toml'), '[target]\nuri = "ssh://builder@build01"\n[[mounts]]\nremote = "/srv/fw"\n');
  console.log(`fresh processes, median of ${RUNS} (node alone: ${(timed([process.execPath, '-e', '0'], env, work) / 1000).toFixed(3)} s)`);
  line('mproxy --version', timed([mproxy, '--version'], env, work), 'target <= 0.2 s');
  line('mproxy validate box.toml', timed([mproxy, 'validate', 'box.toml'], env, work), 'target <= 0.3 s');

  const sshd = await startSshd();
  try {
    const home = clientHome(sshd);
    writeFileSync(join(work, 'ssh.toml'), `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n`);
    const sshEnv = { ...env, HOME: home.home };
    // The agent is cached on the remote after the first run, as for a user's second command.
    spawnSync(mproxy, ['exec', 'ssh.toml', '--', 'true'], { env: sshEnv, cwd: work });
    const ours = timed([mproxy, 'exec', 'ssh.toml', '--', 'true'], sshEnv, work);
    const ssh = timed(['ssh', ...opensshArgs(sshd, home), 'true'], sshEnv, work);
    ratio('cold mproxy exec ssh.toml -- true', ours, ssh, 'ssh host true', 1.3);

    // The live session: an `mproxy mount` of the profile holds the connection, as a ControlMaster does.
    writeFileSync(
      join(work, 'live.toml'),
      `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\n[[mounts]]\nremote = "/tmp"\nlocal = "${work}/mnt"\n`,
    );
    const session = spawn(mproxy, ['mount', 'live.toml'], { env: sshEnv, cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        let said = '';
        session.stderr.on('data', (d: Buffer) => {
          said += d.toString();
          if (said.includes('press Ctrl-C')) resolve();
        });
        session.once('exit', () => reject(new Error(`mproxy mount ended: ${said}`)));
      });
      const control = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(home.home, 'cm-%C')}`, '-o', 'ControlPersist=60'];
      spawnSync('ssh', [...control, ...opensshArgs(sshd, home), 'true'], { env: sshEnv });
      const live = timed([mproxy, 'exec', 'live.toml', '--', 'true'], sshEnv, work, FAST_RUNS);
      const master = timed(['ssh', ...control, ...opensshArgs(sshd, home), 'true'], sshEnv, work, FAST_RUNS);
      ratio('mproxy exec through a live session', live, master, 'ControlMaster ssh true', 1.0);
      spawnSync('ssh', [...control, '-O', 'exit', ...opensshArgs(sshd, home)], { env: sshEnv });
    } finally {
      session.kill('SIGINT');
      await new Promise((resolve) => session.once('exit', resolve));
    }
  } finally {
    await sshd.stop();
  }

  const dockerd = await startDockerd();
  try {
    dockerd.runContainer('node', 'bench');
    writeFileSync(join(work, 'docker.toml'), `[target]\nuri = "docker://bench"\ndocker_host = "${dockerd.host}"\n`);
    spawnSync(mproxy, ['exec', 'docker.toml', '--', 'true'], { env, cwd: work });
    const ours = timed([mproxy, 'exec', 'docker.toml', '--', 'true'], env, work);
    const docker = timed(['docker', '-H', dockerd.host, 'exec', 'bench', 'true'], env, work);
    ratio('cold mproxy exec docker.toml -- true', ours, docker, 'docker exec C true', 3);
  } finally {
    await dockerd.stop();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * bench/exec: mproxy's RemoteHost.exec against what a user would otherwise run, side by side in
 * one run on the harness sshd (127.0.0.1, a real OpenSSH in its own mount namespace):
 *   - median time of a remote `true`: agent and agentless tiers vs `ssh` over a ControlMaster
 *   - throughput of `head -c 1GiB /dev/zero` read back: both tiers vs `ssh host head …`
 * Prints ratios (mproxy / OpenSSH for time, OpenSSH / mproxy … as noted). Not a test: no assertions.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RemoteHost } from '../src/remote/host.js';
import { clientHome, connectHarness, opensshArgs } from '../test/harness/ssh-client.js';
import { startSshd } from '../test/harness/sshd.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 60);
const BYTES = Number(process.env['BENCH_BYTES'] ?? 1024 ** 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function mproxyTrue(host: RemoteHost): Promise<number> {
  const t = performance.now();
  const p = host.exec({ argv: ['true'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
  p.stdin.end();
  p.stdout.resume();
  p.stderr.resume();
  await p.exited;
  return performance.now() - t;
}

function sshTrue(args: string[]): number {
  const t = performance.now();
  const r = spawnSync('ssh', [...args, 'true']);
  if (r.status !== 0) throw new Error(`ssh failed: ${r.stderr.toString()}`);
  return performance.now() - t;
}

async function mproxyCat(host: RemoteHost): Promise<number> {
  const t = performance.now();
  const p = host.exec({ argv: ['head', '-c', String(BYTES), '/dev/zero'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
  p.stdin.end();
  let n = 0;
  p.stdout.on('data', (d: Buffer) => (n += d.length));
  await p.exited;
  if (n !== BYTES) throw new Error(`mproxy: got ${n} bytes`);
  return BYTES / ((performance.now() - t) / 1000);
}

function sshCat(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn('ssh', [...args, 'head', '-c', String(BYTES), '/dev/zero'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    child.stdout.on('data', (d: Buffer) => (n += d.length));
    child.on('close', () => (n === BYTES ? resolve(BYTES / ((performance.now() - t) / 1000)) : reject(new Error(`ssh: got ${n} bytes`))));
  });
}

const mib = (bps: number): string => `${(bps / 1024 ** 2).toFixed(0)} MiB/s`;

const sshd = await startSshd();
try {
  const home = clientHome(sshd);
  const control = join(home.home, 'cm-%C');
  const sshArgs = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${control}`, '-o', 'ControlPersist=120', ...opensshArgs(sshd, home)];
  sshTrue(sshArgs); // establishes the master
  const host = await connectHarness(sshd, home);
  const bare = await connectHarness(sshd, home, 'none');
  await mproxyTrue(host);
  await mproxyTrue(bare);

  const mp: number[] = [];
  const al: number[] = [];
  const os: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    mp.push(await mproxyTrue(host));
    al.push(await mproxyTrue(bare));
    os.push(sshTrue(sshArgs));
  }
  const mpMed = median(mp);
  const alMed = median(al);
  const osMed = median(os);
  console.log(
    `exec true, median of ${RUNS}:  mproxy agent ${mpMed.toFixed(2)} ms   mproxy agentless ${alMed.toFixed(2)} ms   ssh ` +
      `ControlMaster ${osMed.toFixed(2)} ms`,
  );
  console.log(`  ratio agent/ssh ${(mpMed / osMed).toFixed(2)}x (target <= 0.5x), agentless/ssh ${(alMed / osMed).toFixed(2)}x`);

  const alRate = await mproxyCat(bare);
  await bare.close();
  const mpRate = await mproxyCat(host);
  // A plain `ssh host cmd`, as a user would pipe data: its own connection, no master.
  const osRate = await sshCat(opensshArgs(sshd, home));
  console.log(`stdout ${BYTES / 1024 ** 2} MiB:  mproxy agent ${mib(mpRate)}   mproxy agentless ${mib(alRate)}   ssh ${mib(osRate)}`);
  console.log(`  ratio agent/ssh ${(mpRate / osRate).toFixed(2)}x (target >= 0.9x), agentless/ssh ${(alRate / osRate).toFixed(2)}x`);
  await host.close();
  spawnSync('ssh', [...sshArgs.slice(0, -3), '-O', 'exit', '-p', String(sshd.port), `${sshd.user}@127.0.0.1`]);
} finally {
  await sshd.stop();
}

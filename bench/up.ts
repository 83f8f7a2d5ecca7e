/**
 * bench/up: `mproxy up` against what a user would otherwise run, side by side in one run on the
 * harness sshd (127.0.0.1, a real OpenSSH in its own mount namespace), agent tier:
 *   - wall time of `mproxy up P -- true` (agent already uploaded), median
 *   - per-exec time of an intercepted /bin/true in a loop inside `up` vs `ssh` over a
 *     ControlMaster running `true`
 *   - throughput of 1 GiB of remote stdout through the shim vs `ssh host head -c 1GiB /dev/zero`
 *   - both again with recording.mode = "full", against the same without
 * Per-exec times and throughputs are medians of BENCH_REPEAT runs (3), with and without
 * recording taken alternately so drift hits both sides.
 *   - issue 18's data figures: 1 GiB through `cat F | wc -c` (the pipe joined on the remote) and
 *     `wc -c < F` / `cksum < F` / `head -c 1G /dev/zero > F` with F in the mount, each against
 *     the same run natively over ssh
 * BENCH_PARTS=start,exec,cat,record,pipe picks parts (all by default). Prints ratios. Not a test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { clientHome, connectHarness, opensshArgs } from '../test/harness/ssh-client.js';
import { startSshd, TEST_USER } from '../test/harness/sshd.js';

const MPROXY = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUNS = Number(process.env['BENCH_RUNS'] ?? 10);
const EXECS = Number(process.env['BENCH_EXECS'] ?? 300);
const BYTES = Number(process.env['BENCH_BYTES'] ?? 1024 ** 3);
const REPEAT = Number(process.env['BENCH_REPEAT'] ?? 3);
const PARTS = new Set((process.env['BENCH_PARTS'] ?? 'start,exec,cat,record,pipe').split(','));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const sshd = await startSshd();
try {
  const home = clientHome(sshd);
  const remote = `/home/${TEST_USER}/bench-ws`;
  mkdirSync(remote, { recursive: true });
  spawnSync('chown', [`${TEST_USER}:${TEST_USER}`, remote]);
  const profile = join(home.home, 'bench.toml');
  writeFileSync(
    profile,
    `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\nagent = "node"\n[[mounts]]\nremote = "${remote}"\nlocal = ` +
      `"${join(home.home, 'ws')}"\n`,
  );
  // The same, with /bin/true kept here by the policy: the interception's own cost (bench 'exec').
  const localProfile = join(home.home, 'local-true.toml');
  writeFileSync(localProfile, `extends = "./bench.toml"\n[sandbox]\nlocal_commands = ["true"]\n`);
  const recordedProfile = join(home.home, 'recorded.toml');
  writeFileSync(
    recordedProfile,
    `extends = "./bench.toml"\n[recording]\nmode = "full"\npath = ` +
      `"${join(home.home, 'rec')}/{profile}-{time}-{pid}.cbor"\nmax_size = "4GiB"\nkeep = 1\n`,
  );
  const env = { ...process.env, HOME: home.home };
  const up = (script: string, file = profile): { ms: number; stdout: string } => {
    const t = performance.now();
    const r = spawnSync(process.execPath, [MPROXY, 'up', file, '--', 'bash', '-c', script], {
      env,
      cwd: home.home,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 20,
    });
    if (r.status !== 0) throw new Error(`mproxy up failed: ${r.stderr}`);
    return { ms: performance.now() - t, stdout: r.stdout };
  };
  const sshBase = opensshArgs(sshd, home);
  const control = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(home.home, 'cm-%C')}`, '-o', 'ControlPersist=120'];
  const sh = (script: string): number => {
    const t = performance.now();
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.toString()}`);
    return performance.now() - t;
  };
  const ssh = (args: string[], command: string): number => {
    const t = performance.now();
    const r = spawnSync('ssh', [...args, command], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`ssh failed: ${r.stderr.toString()}`);
    return performance.now() - t;
  };

  up('true'); // uploads the agent
  if (PARTS.has('start')) {
    const starts = Array.from({ length: RUNS }, () => up('true').ms);
    console.log(`mproxy up -- true, median of ${RUNS}: ${median(starts).toFixed(0)} ms (target <= 1500 ms)`);
  }

  const LOOP = `s=$EPOCHREALTIME; for ((i=0;i<${EXECS};i++)); do /bin/true; done; e=$EPOCHREALTIME; echo "$s $e"`;
  const CAT = `s=$EPOCHREALTIME; head -c ${BYTES} /dev/zero > /dev/null; e=$EPOCHREALTIME; echo "$s $e"`;
  /** Seconds between the two $EPOCHREALTIME stamps the script printed. */
  const inside = (script: string, file = profile): number => {
    const [s = 0, e = 0] = up(script, file).stdout.trim().split(' ').map(Number);
    return e - s;
  };
  // Per exec: median of REPEAT loops, alternated with the recorded profile's when that is measured.
  const loops: number[] = [];
  const recLoops: number[] = [];
  for (let i = 0; i < (PARTS.has('exec') || PARTS.has('record') ? REPEAT : 0); i++) {
    loops.push((inside(LOOP) * 1000) / EXECS);
    if (PARTS.has('record')) recLoops.push((inside(LOOP, recordedProfile) * 1000) / EXECS);
  }
  const perExec = median(loops);
  if (PARTS.has('exec')) {
    ssh([...control, ...sshBase], 'true');
    const viaSsh = median(Array.from({ length: 60 }, () => ssh([...control, ...sshBase], 'true')));
    console.log(
      `intercepted /bin/true, ${EXECS} in a loop (median of ${REPEAT} loops): ${perExec.toFixed(2)} ms   ssh ControlMaster true, ` +
        `median of 60: ${viaSsh.toFixed(2)} ms`,
    );
    console.log(`  ratio ${(perExec / viaSsh).toFixed(2)}x (target <= 0.3x)`);
    // Where the time goes: the same loop natively, kept local by the policy, and the remote part alone.
    const here = (): number => {
      const [s0 = 0, e0 = 0] = spawnSync('bash', ['-c', LOOP], { encoding: 'utf8' }).stdout.trim().split(' ').map(Number);
      return ((e0 - s0) * 1000) / EXECS;
    };
    const native = median(Array.from({ length: REPEAT }, here));
    const kept = median(Array.from({ length: REPEAT }, () => (inside(LOOP, localProfile) * 1000) / EXECS));
    const host = await connectHarness(sshd, home, 'node');
    const t = performance.now();
    for (let i = 0; i < EXECS; i++) {
      const p = host.exec({ argv: ['/bin/true'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
      p.stdout.resume();
      p.stderr.resume();
      p.stdin.end();
      await p.exited;
    }
    const direct = (performance.now() - t) / EXECS;
    await host.close();
    console.log(
      `  where it goes: /bin/true in a bash loop here ${native.toFixed(2)} ms; kept local by local_commands (tracer, shim, ` +
        `the broker's answer, the exec) ${kept.toFixed(2)} ms; host.exec of it from one process (SSH, agent, remote spawn) ` +
        `${direct.toFixed(2)} ms`,
    );
  }

  const mib = (bps: number): string => `${(bps / 1024 ** 2).toFixed(0)} MiB/s`;
  const shim: number[] = [];
  const viaSsh: number[] = [];
  const recorded: number[] = [];
  const teed: number[] = [];
  if (PARTS.has('cat') || PARTS.has('record')) {
    // `sync` before each run: no run pays for the writeback of the recording before it.
    const settled = <T>(f: () => T): T => (spawnSync('sync'), f());
    for (let i = 0; i < REPEAT; i++) {
      shim.push(settled(() => BYTES / inside(CAT)));
      viaSsh.push(settled(() => BYTES / (ssh(sshBase, `head -c ${BYTES} /dev/zero`) / 1000)));
      if (PARTS.has('record')) {
        recorded.push(settled(() => BYTES / inside(CAT, recordedProfile)));
        // What a user would do to keep the stream without mproxy: tee it to a file on the same disk.
        const teeFile = join(home.home, 'rec', 'tee.out');
        mkdirSync(join(home.home, 'rec'), { recursive: true });
        teed.push(
          settled(
            () =>
              BYTES /
              (sh(`ssh ${sshBase.map((a) => `'${a}'`).join(' ')} 'head -c ${BYTES} /dev/zero' | tee ${teeFile} > /dev/null`) / 1000),
          ),
        );
        rmSync(teeFile);
      }
    }
  }
  const shimRate = median(shim);
  if (PARTS.has('cat')) {
    console.log(
      `${BYTES / 1024 ** 2} MiB of remote stdout, median of ${REPEAT}: through the shim ${mib(shimRate)}   ssh host head ` +
        `${mib(median(viaSsh))}`,
    );
    console.log(`  ratio ${(shimRate / median(viaSsh)).toFixed(2)}x (target >= 0.9x)`);
  }

  // The same with recording.mode = "full" (issue targets: <= 10% throughput, <= 0.2 ms per exec).
  if (PARTS.has('record')) {
    const recPerExec = median(recLoops);
    const signed = (ms: number): string => `${ms < 0 ? '' : '+'}${ms.toFixed(2)}`;
    const recRate = median(recorded);
    console.log(
      `recording.mode = "full": intercepted /bin/true ${recPerExec.toFixed(2)} ms (${signed(recPerExec - perExec)} ms, target <= +0.2 ms)`,
    );
    console.log(
      `  through the shim ${mib(recRate)} against ${mib(shimRate)} without: ${((1 - recRate / shimRate) * 100).toFixed(0)}% ` +
        `slower (target <= 10%)`,
    );
    console.log(
      `  for comparison, ssh host head | tee FILE: ${mib(median(teed))} ` +
        `(${((1 - median(teed) / median(viaSsh)) * 100).toFixed(0)}% below plain ssh's ${mib(median(viaSsh))})`,
    );
  }
  if (PARTS.has('pipe')) {
    // F lives in the workspace; the local shell works in the mount, so the commands run there.
    ssh(sshBase, `head -c ${BYTES} /dev/zero > bench-ws/F`);
    const timedHere = (line: string): number => inside(`cd ws; s=$EPOCHREALTIME; ${line}; e=$EPOCHREALTIME; echo "$s $e"`) * 1000;
    const cases: [string, string][] = [
      ['cat F | wc -c', 'cat F | wc -c > /dev/null'],
      ['wc -c < F', 'wc -c < F > /dev/null'],
      // wc -c asks only the size: cksum reads every byte.
      ['cksum < F', 'cksum < F > /dev/null'],
      [`head -c ${BYTES} /dev/zero > G`, `head -c ${BYTES} /dev/zero > G; rm G`],
    ];
    for (const [name, line] of cases) {
      const here = median(Array.from({ length: REPEAT }, () => timedHere(line)));
      const there = median(Array.from({ length: REPEAT }, () => ssh(sshBase, `cd bench-ws && ${line}`)));
      console.log(
        `${name} (1 GiB = ${BYTES} bytes), median of ${REPEAT}: under up ${here.toFixed(0)} ms   ssh host '${name}' ` +
          `${there.toFixed(0)} ms   ratio ${(here / there).toFixed(2)}x (target <= 1.5x)`,
      );
    }
    ssh(sshBase, 'rm -f bench-ws/F bench-ws/G');
  }
  spawnSync('ssh', [...control, '-O', 'exit', ...sshBase.slice(0, -1), `${sshd.user}@127.0.0.1`], { stdio: 'ignore' });
} finally {
  await sshd.stop();
}

/**
 * bench/fs: an mproxy mount (agent tier) against sshfs mounted from the same sshd, side by side
 * in one run, on the harness sshd (127.0.0.1). Each cold figure is taken on a fresh mount, and
 * each figure is the median of BENCH_REPS runs (3), the tools taking turns.
 *   - read 10,000 small files, cold and warm
 *   - walk and stat a 10,000-file tree, cold
 *   - sequential read and write of 512 MiB
 *   - git status in a 5,000-file repository
 * The mproxy mount is served by this process, so every measured command runs in a child.
 * Prints ratios (mproxy time / sshfs time; for throughput, mproxy / sshfs), each against its
 * target, and two bounds: the transport's own ceiling (the same 1 MiB reads and writes as bare
 * file operations over the agent, eight in flight, without FUSE) and the floor of mproxy's own
 * FUSE layer (the same tree, copied into memory and mounted with a remote that costs nothing,
 * bench/memory-host.ts). Not a test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mountAll } from '../src/mount/mount.js';
import type { RemoteHost } from '../src/remote/host.js';
import { sh } from '../test/conformance/run.js';
import { clientHome, connectHarness } from '../test/harness/ssh-client.js';
import { startSshd, type Sshd } from '../test/harness/sshd.js';
import { memoryHost, MemoryTree } from './memory-host.js';

/** The issue's targets: time ratios at most, throughput ratios at least. */
const TARGETS: Readonly<Record<string, number>> = {
  'walk cold': 0.5,
  'small cold': 0.7,
  'small warm': 0.1,
  'git status': 0.5,
  'git status warm': 0.5,
  'read MiB/s': 1.5,
  'write MiB/s': 1.5,
};

const SMALL = Number(process.env['BENCH_SMALL_FILES'] ?? 10_000);
const BIG_MIB = Number(process.env['BENCH_BIG_MIB'] ?? 512);
const REPO_FILES = Number(process.env['BENCH_REPO_FILES'] ?? 5_000);
const REPS = Number(process.env['BENCH_REPS'] ?? 3);

/** Per figure, the median of the runs. */
function median(runs: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(runs[0] ?? {})) {
    const values = runs.map((r) => r[key] ?? Number.NaN).sort((a, b) => a - b);
    out[key] = values[Math.floor(values.length / 2)] ?? Number.NaN;
  }
  return out;
}

function timed(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`${script}: exit ${code}: ${err}`))));
  });
}

interface Mounter {
  readonly name: string;
  mount(): Promise<{ dir: string; unmount(): Promise<void> }>;
}

function mproxyMounter(host: RemoteHost, remote: string, root: string): Mounter {
  return {
    name: 'mproxy',
    async mount() {
      const dir = join(root, `mproxy-${Date.now()}`);
      const m = await mountAll(host, [{ remote, local: dir, readOnly: false, owner: 'local', ttlMs: 1000, allowOther: false }], {
        opTimeoutMs: 60_000,
      });
      return { dir, unmount: () => m.unmount() };
    },
  };
}

/** The same tree in memory, served by mproxy's FUSE layer with a remote that costs nothing. */
function floorMounter(tree: MemoryTree, root: string): Mounter {
  const host = memoryHost(tree);
  return {
    name: 'floor',
    async mount() {
      const dir = join(root, `floor-${Date.now()}`);
      const m = await mountAll(host, [{ remote: '/', local: dir, readOnly: false, owner: 'local', ttlMs: 1000, allowOther: false }], {
        opTimeoutMs: 60_000,
      });
      return { dir, unmount: () => m.unmount() };
    },
  };
}

function sshfsMounter(sshd: Sshd, remote: string, root: string): Mounter {
  return {
    name: 'sshfs',
    async mount() {
      const dir = join(root, `sshfs-${Date.now()}`);
      mkdirSync(dir);
      const r = spawnSync(
        'sshfs',
        [
          '-o',
          `port=${sshd.port},IdentityFile=${sshd.clientKey},UserKnownHostsFile=${sshd.knownHosts},` +
            'StrictHostKeyChecking=yes,BatchMode=yes,idmap=user',
          `${sshd.user}@127.0.0.1:${remote}`,
          dir,
        ],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`sshfs: ${r.stderr}`);
      return {
        dir,
        unmount: async () => {
          spawnSync('fusermount3', ['-u', '-z', dir]);
          rmdirSync(dir);
        },
      };
    },
  };
}

/** MiB/s of `op` over `host.fs` for BIG_MIB in 1 MiB calls, `depth` in flight. */
async function bare(host: RemoteHost, file: string, op: 'read' | 'write', depth = 8): Promise<number> {
  const MiB = 1 << 20;
  const h = await host.fs.call('open', Buffer.from(file), op === 'read' ? 0 : 0o1101, 0o644);
  const chunk = Buffer.alloc(MiB, 7);
  const started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let pos = 0; pos < BIG_MIB * MiB; pos += MiB) {
    const call: Promise<unknown> = op === 'read' ? host.fs.call('read', h, pos, MiB) : host.fs.call('write', h, pos, chunk);
    const tracked: Promise<unknown> = call.then((): boolean => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= depth) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (op === 'write') await host.fs.call('fsync', h);
  await host.fs.call('close', h);
  return BIG_MIB / ((performance.now() - started) / 1000);
}

async function measure(m: Mounter): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let mnt = await m.mount();
  out['walk cold'] = await timed(`cd ${mnt.dir}/small && find . -printf '%s %m\\n' > /dev/null`);
  await mnt.unmount();
  mnt = await m.mount();
  out['small cold'] = await timed(`cd ${mnt.dir}/small && find . -type f | xargs cat > /dev/null`);
  out['small warm'] = await timed(`cd ${mnt.dir}/small && find . -type f | xargs cat > /dev/null`);
  out['git status'] = await timed(`cd ${mnt.dir}/repo && git status --porcelain > /dev/null`);
  out['git status warm'] = await timed(`cd ${mnt.dir}/repo && git status --porcelain > /dev/null`);
  out['read MiB/s'] = BIG_MIB / ((await timed(`cat ${mnt.dir}/big > /dev/null`)) / 1000);
  out['write MiB/s'] =
    BIG_MIB /
    ((await timed(`dd if=/dev/zero of=${mnt.dir}/written bs=1M count=${BIG_MIB} conv=fsync 2>/dev/null && rm ${mnt.dir}/written`)) / 1000);
  await mnt.unmount();
  return out;
}

if (spawnSync('sshfs', ['--version']).status !== 0) {
  console.error('bench/fs needs sshfs to compare against: apt-get install sshfs');
  process.exit(2);
}
const sshd = await startSshd();
const root = mkdtempSync(join(tmpdir(), 'mproxy-bench-fs-'));
try {
  const host = await connectHarness(sshd, clientHome(sshd));
  const remote = `/home/${sshd.user}/bench-fs`;
  console.log(`preparing ${remote}: ${SMALL} small files, ${BIG_MIB} MiB file, ${REPO_FILES}-file git repo…`);
  const prepare = (dir: string): string =>
    [
      `rm -rf ${dir} && mkdir -p ${dir}/small ${dir}/repo && cd ${dir}`,
      `i=0; while [ $i -lt ${SMALL} ]; do d=small/d$((i / 100)); [ -d $d ] || mkdir $d; printf "file %s\\n%0800d\\n" $i 0 > ` +
        `$d/f$i; i=$((i + 1)); done`,
      `head -c ${BIG_MIB}M /dev/urandom > big`,
      `cd repo && i=0; while [ $i -lt ${REPO_FILES} ]; do d=src/m$((i / 100)); [ -d $d ] || mkdir -p $d; echo "line $i" > ` +
        `$d/f$i.c; i=$((i + 1)); done`,
      'git init -q && git add . && git -c user.email=b@e -c user.name=b commit -qm init',
    ].join('\n');
  const prep = await sh(host, prepare(remote), { env: { PATH: '/usr/bin:/bin', HOME: `/home/${sshd.user}` } });
  if (prep.code !== 0) throw new Error(`prepare: ${prep.stderr.toString()}`);
  // Each figure is the median of REPS runs, the two tools taking turns (this machine is noisy).
  const mpRuns: Record<string, number>[] = [];
  const fsRuns: Record<string, number>[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    mpRuns.push(await measure(mproxyMounter(host, remote, root)));
    fsRuns.push(await measure(sshfsMounter(sshd, remote, root)));
  }
  const mp = median(mpRuns);
  const fs = median(fsRuns);
  // The floor: the same tree built here, copied into memory, mounted from there.
  const local = mkdtempSync(join(tmpdir(), 'mproxy-bench-floor-'));
  const made = spawnSync('/bin/sh', ['-c', prepare(join(local, 'tree'))], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`prepare the floor's tree: ${made.stderr}`);
  const tree = new MemoryTree();
  tree.load(join(local, 'tree'));
  rmSync(join(local, 'tree'), { recursive: true });
  rmdirSync(local);
  const floorRuns: Record<string, number>[] = [];
  for (let rep = 0; rep < REPS; rep++) floorRuns.push(await measure(floorMounter(tree, root)));
  const floor = median(floorRuns);
  const rows: [string, string, string, string][] = [];
  for (const key of Object.keys(mp)) {
    const a = mp[key] ?? NaN;
    const b = fs[key] ?? NaN;
    const rate = key.includes('MiB/s');
    const f = floor[key] ?? NaN;
    rows.push([
      key,
      rate ? `${a.toFixed(0)} MiB/s vs ${b.toFixed(0)} MiB/s` : `${a.toFixed(0)} ms vs ${b.toFixed(0)} ms`,
      `${(a / b).toFixed(2)}x`,
      `${rate ? `${f.toFixed(0)} MiB/s` : `${f.toFixed(0)} ms`} = ${(f / b).toFixed(2)}x`,
    ]);
  }
  console.log(
    `medians of ${REPS} runs    mproxy vs sshfs                   ratio  target (time: lower is better; MiB/s: higher)   floor: ` +
      `memory remote`,
  );
  for (const [k, v, r, f] of rows) {
    const target = TARGETS[k];
    const ratio = Number(r.slice(0, -1));
    const rate = k.includes('MiB/s');
    const verdict =
      target === undefined ? '' : `${rate ? '>=' : '<='} ${target}x ${(rate ? ratio >= target : ratio <= target) ? 'met' : 'MISSED'}`;
    console.log(`${k.padEnd(20)} ${v.padEnd(34)} ${r.padEnd(6)} ${verdict.padEnd(16)} ${f}`);
  }
  const ceilingRead = await bare(host, `${remote}/big`, 'read');
  const ceilingWrite = await bare(host, `${remote}/bare-written`, 'write');
  console.log(
    `transport ceiling (bare 1 MiB file operations over the agent, 8 in flight, no FUSE): read ${ceilingRead.toFixed(0)} MiB/s ` +
      `(${(ceilingRead / (fs['read MiB/s'] ?? NaN)).toFixed(2)}x sshfs), ` +
      `write ${ceilingWrite.toFixed(0)} MiB/s (${(ceilingWrite / (fs['write MiB/s'] ?? NaN)).toFixed(2)}x sshfs)`,
  );
  await sh(host, `rm -rf ${remote}`);
  await host.close();
} finally {
  // Never recurse into a mount that is still there: unmount each, then remove the empty dirs.
  for (const entry of readdirSync(root)) {
    spawnSync('fusermount3', ['-u', '-z', join(root, entry)]);
    rmdirSync(join(root, entry));
  }
  rmdirSync(root);
  await sshd.stop();
}

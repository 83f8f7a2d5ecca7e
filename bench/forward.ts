/**
 * bench/forward: a to-remote forward of `mproxy forward` (the built CLI, agent and agentless
 * tiers) against `ssh -L` on the same harness sshd, side by side in one run:
 *   - throughput: 1 GiB (BENCH_BYTES) read through the forward from a remote server that sends it
 *   - connect latency: connect, one byte out, its echo back (median of BENCH_RUNS, 100)
 * Ratios: throughput mproxy / ssh (higher is better; goal ≥ 0.9x), latency mproxy / ssh (lower
 * is better; goal ≤ 1.2x). Not a test: no assertions.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectHarness, clientHome, opensshArgs } from '../test/harness/ssh-client.js';
import { startSshd } from '../test/harness/sshd.js';
import { MPROXY_ARGV, testEnv } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/ports.js';
import { waitUntil } from '../test/helpers/wait.js';
import { echoServer } from '../test/forward/remote-servers.js';

const BYTES = Number(process.env['BENCH_BYTES'] ?? 1024 ** 3);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 100);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Reads everything the remote source sends through local port `port`: bytes per second. */
function download(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    let n = 0;
    const c = netConnect(port, '127.0.0.1');
    c.on('data', (d: Buffer) => (n += d.length));
    c.on('end', () => (n === BYTES ? resolve(BYTES / ((performance.now() - t) / 1000)) : reject(new Error(`got ${n} of ${BYTES} bytes`))));
    c.on('error', reject);
  });
}

/**
 * Connect, send a byte, wait for its echo: milliseconds. Then the connection is closed as a
 * client closes it (its end, the server's end, closed) before the next one starts, so no
 * measurement includes the teardown of the one before.
 */
function ping(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    let took = 0;
    const c = netConnect(port, '127.0.0.1', () => c.write('x'));
    c.once('data', () => {
      took = performance.now() - t;
      c.end();
    });
    c.resume();
    c.once('close', () => resolve(took));
    c.on('error', reject);
  });
}

async function until(child: ChildProcess, text: string): Promise<void> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await waitUntil(text, () => err.includes(text), { timeoutMs: 30_000 });
}

const sshd = await startSshd();
const children: ChildProcess[] = [];
try {
  const home = clientHome(sshd);
  const host = await connectHarness(sshd, home);
  const [sourcePort, echoPort] = [await freePort(), await freePort()];
  // Sends BYTES (whole MiBs) to each connection, at the pace it is read.
  const source = `require('net').createServer((c) => { let left = ${BYTES}; const b = Buffer.alloc(1 << 20);
    const w = () => { while (left > 0) { left -= b.length; if (!c.write(b)) return c.once('drain', w); } c.end(); }; w();
  }).listen(${sourcePort}, '127.0.0.1', () => console.log('ready'));`;
  const src = host.exec({ argv: ['node', '-e', source], env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, cwd: '/' });
  let srcOut = '';
  src.stdout.on('data', (d: Buffer) => (srcOut += d.toString()));
  await waitUntil('the remote source ready', () => srcOut.includes('ready'));
  const echo = await echoServer(host, { port: echoPort });
  const ends: Record<string, { data: number; echo: number }> = {};
  for (const [name, agent] of [
    ['mproxy agent', 'node'],
    ['mproxy agentless', 'none'],
  ] as const) {
    const [d, e] = [await freePort(), await freePort()];
    const profile = join(home.home, `fwd-${agent}.toml`);
    writeFileSync(
      profile,
      `[target]\nuri = "ssh://${sshd.user}@127.0.0.1:${sshd.port}"\nagent = "${agent}"\n` +
        `[[forwards]]\nlocal = ${d}\nremote = ${sourcePort}\n[[forwards]]\nlocal = ${e}\nremote = ${echoPort}\n`,
    );
    const child = spawn(process.execPath, [...MPROXY_ARGV, 'forward', profile], {
      env: testEnv({ HOME: home.home }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    await until(child, 'press Ctrl-C');
    ends[name] = { data: d, echo: e };
  }
  const [sd, se] = [await freePort(), await freePort()];
  const ssh = spawn('ssh', [...opensshArgs(sshd, home), '-N', '-L', `${sd}:127.0.0.1:${sourcePort}`, '-L', `${se}:127.0.0.1:${echoPort}`]);
  children.push(ssh);
  await waitUntil('ssh -L listening', () =>
    ping(se).then(
      () => true,
      () => false,
    ),
  );
  ends['ssh -L'] = { data: sd, echo: se };

  const speed: Record<string, number[]> = {};
  const latency: Record<string, number[]> = {};
  for (let round = 0; round < 3; round++) for (const [name, p] of Object.entries(ends)) (speed[name] ??= []).push(await download(p.data));
  for (let i = 0; i < RUNS; i++) for (const [name, p] of Object.entries(ends)) (latency[name] ??= []).push(await ping(p.echo));
  const base = { speed: median(speed['ssh -L'] ?? []), latency: median(latency['ssh -L'] ?? []) };
  console.log(
    `bench/forward: ${BYTES / 1024 ** 2} MiB through a to-remote forward (median of 3); connect + 1-byte echo (median of ${RUNS})`,
  );
  for (const name of Object.keys(ends)) {
    const s = median(speed[name] ?? []);
    const l = median(latency[name] ?? []);
    const ratios =
      name === 'ssh -L'
        ? ''
        : `  ${(s / base.speed).toFixed(2)}x throughput (goal ≥ 0.9x), ${(l / base.latency).toFixed(2)}x latency (goal ≤ 1.2x)`;
    console.log(`  ${name.padEnd(17)} ${(s / 1024 ** 2).toFixed(0)} MiB/s, ${l.toFixed(2)} ms${ratios}`);
  }
  await echo.stop();
  src.signal('SIGKILL');
  await host.close();
} finally {
  for (const c of children) c.kill('SIGINT');
  await sshd.stop();
}

/**
 * A real dockerd for the tests, on a private socket with its own data root (no iptables, no
 * bridge: containers get --network=none), and test images made offline with `docker import`:
 * busybox only (the agentless case) and busybox plus this machine's node (the agent case).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runHere } from './system.js';

export const CONTAINER_OS = 'mproxy test container';

export interface Dockerd {
  readonly host: string;
  /** Stops the daemon and starts it again (containers run on: live-restore). */
  restart(): Promise<void>;
  /** The same daemon on TCP with TLS: DOCKER_HOST and DOCKER_CERT_PATH for it. */
  readonly tls: { readonly host: string; readonly certPath: string };
  /** Start a container from `image` that sleeps; returns its name. */
  runContainer(image: 'busybox' | 'node', name: string, labels?: Record<string, string>): string;
  docker(...args: string[]): { code: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

export function dockerdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the dockerd harness needs root';
  if (runHere('sh', ['-c', 'command -v dockerd']).code !== 0) return 'dockerd is missing (apt-get install docker.io)';
  if (!existsSync('/bin/busybox')) return '/bin/busybox is missing (apt-get install busybox-static)';
  return undefined;
}

function rootfs(dir: string, withNode: boolean): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const applet of runHere('/bin/busybox', ['--list'])
    .stdout.split('\n')
    .filter((a) => a !== '' && a !== 'busybox')) {
    try {
      symlinkSync('busybox', join(dir, 'bin', applet));
    } catch {
      // Listed twice.
    }
  }
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  symlinkSync('/bin/env', join(dir, 'usr/bin/env'));
  for (const d of ['etc', 'root', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'etc/os-release'), `PRETTY_NAME="${CONTAINER_OS}"\nID=mproxycontainer\n`);
  if (!withNode) return;
  const node = process.execPath;
  const libs = runHere('ldd', [node]).stdout.matchAll(/(\/\S+)\s+\(0x/g);
  for (const file of [node, ...[...libs].map((m) => m[1] ?? '')]) {
    if (file === '') continue;
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    copyFileSync(file, join(dir, file));
    chmodSync(join(dir, file), 0o755);
  }
  if (node !== '/usr/bin/node') symlinkSync(node, join(dir, 'usr/bin/node'));
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, as `docker --tlsverify` wants them. */
function makeCerts(dir: string): { server: string[]; client: string } {
  const client = join(dir, 'client');
  mkdirSync(client, { recursive: true });
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  const script = [
    `cd ${dir}`,
    `openssl req -x509 ${ec} -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=mproxy-test-ca`,
    `openssl req ${ec} -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1`,
    `printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext`,
    'openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server-cert.pem -days 2 -extfile server.ext',
    `openssl req ${ec} -keyout client/key.pem -out client.csr -subj /CN=mproxy-test-client`,
    `printf 'extendedKeyUsage=clientAuth\n' > client.ext`,
    'openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out client/cert.pem -days 2 -extfile client.ext',
    'cp ca.pem client/ca.pem',
  ].join(' && ');
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return {
    server: [
      '--tlsverify',
      `--tlscacert=${join(dir, 'ca.pem')}`,
      `--tlscert=${join(dir, 'server-cert.pem')}`,
      `--tlskey=${join(dir, 'server-key.pem')}`,
    ],
    client,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = mkdtempSync(join(tmpdir(), 'mproxy-dockerd-'));
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  // Also on TCP with TLS (client certificates required), as a remote daemon is reached.
  const certs = makeCerts(join(dir, 'certs'));
  const tcpPort = await freePort();
  // live-restore: containers run on while the daemon restarts (as on servers that update docker).
  const args = [
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    '--live-restore',
    `--host=${host}`,
    `--host=tcp://127.0.0.1:${tcpPort}`,
    ...certs.server,
    `--data-root=${join(dir, 'data')}`,
    `--exec-root=${join(dir, 'exec')}`,
    `--pidfile=${join(dir, 'docker.pid')}`,
  ];
  // Its log goes to a file: a pipe to this process fills while a test blocks in spawnSync, and
  // dockerd then stops answering (the harness, not mproxy, would be hanging).
  const logFile = join(dir, 'dockerd.log');
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '');
  const docker = (...a: string[]) => runHere('docker', ['-H', host, ...a]);
  const launch = async (): Promise<ChildProcess> => {
    const out = openSync(logFile, 'a');
    const daemon = spawn('dockerd', args, { stdio: ['ignore', 'ignore', out] });
    closeSync(out);
    for (let i = 0; ; i++) {
      if (docker('version', '--format', '{{.Server.Version}}').code === 0) return daemon;
      if (daemon.exitCode !== null || i > 150) throw new Error(`dockerd did not start: ${log()}`);
      await sleep(200);
    }
  };
  const halt = async (daemon: ChildProcess): Promise<void> => {
    daemon.kill('SIGTERM');
    await Promise.race([new Promise((r) => daemon.once('exit', r)), sleep(10_000)]);
  };
  let child = await launch();
  for (const [name, withNode] of [
    ['busybox', false],
    ['node', true],
  ] as const) {
    const fs = join(dir, `rootfs-${name}`);
    rootfs(fs, withNode);
    const r = spawnSync('sh', ['-c', `tar -C ${fs} -c . | docker -H ${host} import - mproxy-test/${name}:latest`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`docker import ${name}: ${r.stderr}`);
  }
  return {
    host,
    tls: { host: `tcp://127.0.0.1:${tcpPort}`, certPath: certs.client },
    docker,
    runContainer(image, name, labels = {}) {
      const r = docker(
        'run',
        '-d',
        '--network=none',
        '--name',
        name,
        ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        `mproxy-test/${image}:latest`,
        'sleep',
        '999999',
      );
      if (r.code !== 0) throw new Error(`docker run: ${r.stderr}`);
      return name;
    },
    async restart() {
      await halt(child);
      child = await launch();
    },
    async stop() {
      docker(
        'rm',
        '-f',
        ...docker('ps', '-aq')
          .stdout.split('\n')
          .filter((x) => x !== ''),
      );
      await halt(child);
      runHere('umount', ['-R', join(dir, 'data')]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

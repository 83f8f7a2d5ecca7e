/** Connecting to the harness sshd the way mproxy does, with a private HOME, known_hosts and ssh config. */
import { mkdirSync, mkdtempSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemoteHost } from '../../src/remote/host.js';
import { connectSsh } from '../../src/runner/connect.js';
import type { SshOptions } from '../../src/transport/ssh/index.js';
import type { Sshd } from './sshd.js';

export interface ClientHome {
  readonly home: string;
  readonly knownHosts: string;
  readonly sshConfig: string;
}

let homesRoot: string | undefined;

/** Every client HOME of this test process lives under one directory, removed when it exits. */
function newHome(): string {
  if (homesRoot === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'mproxy-homes-'));
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
    homesRoot = root;
  }
  return mkdtempSync(join(homesRoot, 'home-'));
}

/** A fresh local HOME whose known_hosts trusts the sshd and whose ssh config names its key. */
export function clientHome(sshd: Sshd): ClientHome {
  const home = newHome();
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  const knownHosts = join(home, '.ssh', 'known_hosts');
  copyFileSync(sshd.knownHosts, knownHosts);
  const sshConfig = join(home, '.ssh', 'config');
  writeFileSync(sshConfig, `Host 127.0.0.1 sshd-alias\n  HostName 127.0.0.1\n  User ${sshd.user}\n  IdentityFile ${sshd.clientKey}\n`);
  return { home, knownHosts, sshConfig };
}

export function optionsFor(home: ClientHome, extra: Partial<SshOptions> = {}): SshOptions {
  return {
    home: home.home,
    localUser: 'tester',
    hostKeyPolicy: 'strict',
    connectTimeoutMs: 5000,
    keepaliveMs: 15000,
    opTimeoutMs: 20_000,
    knownHostsFiles: [home.knownHosts],
    sshConfigFiles: [home.sshConfig],
    ...extra,
  };
}

export function connectHarness(
  sshd: Sshd,
  home: ClientHome,
  agent: 'auto' | 'node' | 'none' = 'auto',
  extra: Partial<SshOptions> = {},
): Promise<RemoteHost> {
  return connectSsh({ user: sshd.user, host: '127.0.0.1', port: sshd.port }, agent, optionsFor(home, extra));
}

/** OpenSSH's own client's arguments for the harness sshd, as `home`'s user, ending in the destination. */
export function opensshArgs(sshd: Sshd, home: ClientHome): string[] {
  return [
    '-F',
    home.sshConfig,
    '-o',
    `UserKnownHostsFile=${home.knownHosts}`,
    '-o',
    'BatchMode=yes',
    '-p',
    String(sshd.port),
    `${sshd.user}@127.0.0.1`,
  ];
}

/**
 * A real OpenSSH sshd on 127.0.0.1 for the tests, in its own mount namespace so it is "another
 * machine": its /etc/os-release names a different system, /srv/remote-only exists only
 * there, and so does the command mproxy-remote-tool (in /usr/games, on sshd's default PATH).
 * A test user whose login shell is /bin/sh; a client key and a known_hosts file to use.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runHere } from './system.js';

export const TEST_USER = 'mproxytest';
export const REMOTE_OS = 'mproxy test remote (not this machine)';
/** A command that exists on the remote's PATH only, and what it prints. */
export const REMOTE_TOOL = 'mproxy-remote-tool';
export const REMOTE_TOOL_OUTPUT = 'the remote-only tool ran';

export interface Sshd {
  readonly port: number;
  readonly user: string;
  readonly dir: string;
  /** Client private key the test user accepts. */
  readonly clientKey: string;
  /** A known_hosts file with this server's key. */
  readonly knownHosts: string;
  /** The server's public host key line (`ssh-ed25519 AAAA…`). */
  readonly hostKeyLine: string;
  /** Kill (SIGKILL) processes started through this server whose command line matches `pattern`; all of them without one. */
  killBelow(pattern?: RegExp): number;
  /** Send `signal` to the processes started through this server whose command line matches `pattern`. */
  signalBelow(signal: NodeJS.Signals, pattern: RegExp): number;
  /** The server's processes (its sessions and what they run) whose command line matches. */
  processes(pattern: RegExp): { pid: number; args: string }[];
  /** SIGKILL to a process of the server and everything below it (a connection cut at the server). */
  killTree(pid: number): void;
  stop(): Promise<void>;
}

/** Processes below `root` in the process tree (not `root` itself). */
function descendants(root: number): { pid: number; args: string }[] {
  const rows = runHere('ps', ['-e', '-o', 'pid=,ppid=,args=']).stdout.split('\n');
  const children = new Map<number, { pid: number; args: string }[]>();
  for (const row of rows) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(row);
    if (m === null) continue;
    const entry = { pid: Number(m[1]), args: m[3] ?? '' };
    const ppid = Number(m[2]);
    children.set(ppid, [...(children.get(ppid) ?? []), entry]);
  }
  const out: { pid: number; args: string }[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

export interface SshdOptions {
  /** Hide node on the remote (an old box that cannot run the agent). */
  readonly withoutNode?: boolean;
  /** Text the test user's shell prints at start (banner, .bashrc chatter). */
  readonly loginChatter?: string;
  /** A nearly full ~/.cache for the test user (uploads fail with ENOSPC). */
  readonly fullCache?: boolean;
  /** The test user's shell hangs before running what sshd asks (a login script waiting for input). */
  readonly stallingLogin?: boolean;
  /** sshd's MaxSessions (sessions per connection); 100 unless given. */
  readonly maxSessions?: number;
  /** No sha256sum on the remote (busybox boxes, minimal images). */
  readonly withoutSha256sum?: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function ensureUser(): void {
  if (runHere('id', ['-u', TEST_USER]).code !== 0) {
    const r = runHere('useradd', ['--create-home', '--shell', '/bin/sh', TEST_USER]);
    if (r.code !== 0 && runHere('id', ['-u', TEST_USER]).code !== 0) throw new Error(`useradd ${TEST_USER} failed: ${r.stderr}`);
  }
  // useradd leaves the account locked ("!"), and without PAM sshd refuses locked accounts
  // even for keys; "*" means: no password, not locked.
  runHere('usermod', ['-p', '*', TEST_USER]);
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  ensureUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'mproxy-sshd-'));
  chmodSync(dir, 0o755);
  const keygen = (file: string): void => {
    const r = runHere('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  };
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  chmodSync(join(dir, 'authorized_keys'), 0o644);
  writeFileSync(join(dir, 'os-release'), `PRETTY_NAME="${REMOTE_OS}"\nNAME="mproxy-test"\nID=mproxytest\n`);
  writeFileSync(join(dir, 'no-node'), '');
  if (options.stallingLogin === true) {
    const realShell = join(dir, 'real-sh');
    copyFileSync(realpathSync('/bin/sh'), realShell);
    writeFileSync(
      join(dir, 'stalling-sh'),
      `#!${realShell}\ncase "$(cat /proc/$PPID/comm 2>/dev/null)" in sshd*) exec ${realShell} -c 'while :; do sleep 1; done' ` +
        `${dir}-stalled;; esac\nexec ${realShell} "$@"\n`,
      { mode: 0o755 },
    );
  }
  if (options.loginChatter !== undefined) {
    // sshd runs `sh -c CMD` for exec requests; ENV is not read then, so the chatter comes from a wrapper shell.
    // Binding over /bin/sh replaces the file it links to, so the wrapper runs a copy of the real shell.
    const realShell = join(dir, 'real-sh');
    copyFileSync(realpathSync('/bin/sh'), realShell);
    // Only the shell sshd starts prints, once, as a login shell's rc files would: commands that
    // later exec in the same process (sh → env → sh) stay quiet.
    const chatter = options.loginChatter.replace(/'/g, "'\\''");
    const seen = join(dir, 'chatter');
    mkdirSync(seen, { mode: 0o1777 });
    chmodSync(seen, 0o1777);
    writeFileSync(
      join(dir, 'chatty-sh'),
      `#!${realShell}\nf=${seen}/$PPID-$$\ncase "$(cat /proc/$PPID/comm 2>/dev/null)" in sshd*) [ -e "$f" ] || { : > "$f"; ` +
        `printf '%s' '${chatter}'; };; esac\nexec ${realShell} "$@"\n`,
      { mode: 0o755 },
    );
  }
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    `MaxSessions ${options.maxSessions ?? 100}`,
    'MaxStartups 100:30:200',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
    `AllowUsers ${TEST_USER}`,
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const setup = [
    'set -e',
    `mount --bind ${join(dir, 'os-release')} /etc/os-release`,
    'mount -t tmpfs -o mode=755 none /srv',
    'mkdir /srv/remote-only && echo "only on the remote" > /srv/remote-only/README',
    // A command on the remote PATH only (/usr/games is on sshd's default PATH, not on root's here).
    'mkdir -p /usr/games && mount -t tmpfs -o mode=755 none /usr/games',
    `printf '#!/bin/sh\\necho "${REMOTE_TOOL_OUTPUT}"\\n' > /usr/games/${REMOTE_TOOL} && chmod 755 /usr/games/${REMOTE_TOOL}`,
    options.withoutNode === true ? `mount --bind ${join(dir, 'no-node')} "$(command -v node)"` : ':',
    options.loginChatter !== undefined ? `mount --bind ${join(dir, 'chatty-sh')} /bin/sh` : ':',
    options.stallingLogin === true ? `mount --bind ${join(dir, 'stalling-sh')} /bin/sh` : ':',
    options.withoutSha256sum === true ? 'mount --bind /dev/null "$(command -v sha256sum)"' : ':',
    options.fullCache === true
      ? `mkdir -p /home/${TEST_USER}/.cache && mount -t tmpfs -o size=16k,mode=777 none /home/${TEST_USER}/.cache`
      : ':',
    // Its log goes to a file: a pipe to this process fills while a test blocks in spawnSync, and
    // sshd then stops mid-session (the harness, not mproxy, would be hanging).
    `exec /usr/sbin/sshd -D -E ${join(dir, 'sshd.log')} -f ${join(dir, 'sshd_config')}`,
  ].join('\n');
  const child = spawn('unshare', ['-m', '--propagation', 'private', '/bin/bash', '-c', setup], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForPort(port, child, () => {
    const log = join(dir, 'sshd.log');
    return `${stderr}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`;
  });
  const signalBelow = (signal: NodeJS.Signals, pattern: RegExp): number => {
    const victims = descendants(child.pid ?? -1).filter((p) => pattern.test(p.args));
    for (const v of victims) {
      try {
        process.kill(v.pid, signal);
      } catch {
        // Already gone.
      }
    }
    return victims.length;
  };
  const hostKeyLine = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKeyLine}\n`);
  return {
    port,
    user: TEST_USER,
    dir,
    clientKey: join(dir, 'client_key'),
    knownHosts: join(dir, 'known_hosts'),
    hostKeyLine,
    processes: (pattern) => descendants(child.pid ?? -1).filter((p) => pattern.test(p.args)),
    killTree: (pid) => {
      for (const p of [{ pid }, ...descendants(pid)]) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    },
    killBelow: (pattern) => signalBelow('SIGKILL', pattern ?? /(?:)/),
    signalBelow: (signal, pattern) => signalBelow(signal, pattern),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      // Sessions sshd left behind (their shells outlive a closed channel): every process naming this server's directory.
      spawnSync('pkill', ['-9', '-f', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

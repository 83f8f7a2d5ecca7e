/**
 * The targets `mproxy up` is tested against, each with a seeded remote workspace and a profile
 * that mounts it at a local path that does not exist on this machine: local (the agent as a
 * child), ssh with the agent and agentless, docker with the agent and agentless.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTAINER_OS, dockerdMissing, startDockerd, type Dockerd } from '../harness/dockerd.js';
import { clientHome } from '../harness/ssh-client.js';
import { REMOTE_OS, startSshd, TEST_USER, type Sshd } from '../harness/sshd.js';
import { sshdMissing } from '../harness/system.js';

export const LOCAL_OS = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';

/** What the workspace holds on the remote. */
export const SEED: Record<string, string> = {
  'file.txt': 'data from the workspace\n',
  'build.sh': '#!/bin/sh\ngrep PRETTY_NAME /etc/os-release\n',
  'sub/Makefile': 'all:\n\t@echo "made in $$(basename $$(pwd)) on $$(grep PRETTY_NAME /etc/os-release)"\n',
};

export interface UpTarget {
  readonly name: string;
  /** Why it cannot run here, if so. */
  readonly missing: string | undefined;
  readonly agent: boolean;
  /** git and make on the remote. */
  readonly devTools: boolean;
  readonly remoteOs: string;
  start(): Promise<{ readonly profile: string; readonly home: string; readonly local: string }>;
  stop(): Promise<void>;
  /** What the server logged so far, where it is one of ours (the harness sshd). */
  serverLog?(): string;
}

function profileText(uri: string, remote: string, local: string, extra = ''): string {
  return (
    `[target]\nuri = "${uri}"\n${extra}\n[[mounts]]\nremote = "${remote}"\nlocal = "${local}"\n\n[sandbox]\nlocal_commands ` +
    `= ["node", "busybox"]\n`
  );
}

/** A fresh local path for the mount: its parent exists, it does not. */
function localView(): string {
  return join(mkdtempSync(join(tmpdir(), 'mproxy-up-view-')), 'workspace');
}

function seedDir(root: string, owner?: { uid: number; gid: number }): void {
  for (const [path, text] of Object.entries(SEED)) {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, text);
    if (path.endsWith('.sh')) chmodSync(full, 0o755);
  }
  if (owner !== undefined) spawnSync('chown', ['-R', `${owner.uid}:${owner.gid}`, root]);
}

/** Removes the temporary directories a target made (no mount is left in them by then). */
function removeDirs(dirs: readonly string[]): void {
  for (const dir of dirs) if (dir.startsWith(tmpdir())) spawnSync('rm', ['-r', '--one-file-system', dir]);
}

export function localTarget(): UpTarget {
  let view = '';
  const made: string[] = [];
  return {
    name: 'local',
    missing: undefined,
    agent: true,
    devTools: true,
    remoteOs: LOCAL_OS,
    async start() {
      const remote = mkdtempSync(join(tmpdir(), 'mproxy-up-remote-'));
      seedDir(remote);
      view = localView();
      const home = mkdtempSync(join(tmpdir(), 'mproxy-up-home-'));
      made.push(remote, home);
      const profile = join(home, 'local.toml');
      writeFileSync(profile, profileText('local', remote, view));
      return { profile, home, local: view };
    },
    async stop() {
      if (view !== '') rmdirSync(join(view, '..'));
      removeDirs(made);
    },
  };
}

export function sshTarget(agent: 'node' | 'none'): UpTarget {
  let sshd: Sshd | undefined;
  let view = '';
  return {
    name: agent === 'node' ? 'ssh + agent' : 'ssh agentless',
    missing: sshdMissing(),
    agent: agent === 'node',
    devTools: true,
    remoteOs: REMOTE_OS,
    async start() {
      sshd = await startSshd({ withoutNode: agent === 'none' });
      const home = clientHome(sshd);
      const id = spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim();
      const remote = `/home/${TEST_USER}/ws-${process.pid}-${agent}`;
      mkdirSync(remote, { recursive: true });
      chownSync(remote, Number(id), Number(id));
      seedDir(remote, { uid: Number(id), gid: Number(id) });
      view = localView();
      const profile = join(home.home, 'box.toml');
      writeFileSync(profile, profileText(`ssh://${sshd.user}@127.0.0.1:${sshd.port}`, remote, view, `agent = "${agent}"`));
      return { profile, home: home.home, local: view };
    },
    async stop() {
      await sshd?.stop();
      if (view !== '') rmdirSync(join(view, '..'));
    },
    serverLog: () => (sshd !== undefined && existsSync(join(sshd.dir, 'sshd.log')) ? readFileSync(join(sshd.dir, 'sshd.log'), 'utf8') : ''),
  };
}

export function dockerTarget(image: 'node' | 'busybox'): UpTarget {
  let dockerd: Dockerd | undefined;
  let view = '';
  const made: string[] = [];
  return {
    name: image === 'node' ? 'docker + agent' : 'docker agentless',
    missing: dockerdMissing(),
    agent: image === 'node',
    devTools: false,
    remoteOs: CONTAINER_OS,
    async start() {
      dockerd = await startDockerd();
      const name = dockerd.runContainer(image, `up-${image}`);
      const script = Object.entries(SEED)
        .map(([path, text]) => `mkdir -p "$(dirname /ws/${path})" && printf '%s' '${text.replace(/'/g, "'\\''")}' > /ws/${path}`)
        .join(' && ');
      const r = dockerd.docker('exec', name, 'sh', '-c', `${script} && chmod 755 /ws/build.sh`);
      if (r.code !== 0) throw new Error(`seeding the container: ${r.stderr}`);
      view = localView();
      const home = mkdtempSync(join(tmpdir(), 'mproxy-up-home-'));
      made.push(home);
      const profile = join(home, 'container.toml');
      writeFileSync(profile, profileText(`docker://${name}`, '/ws', view, `docker_host = "${dockerd.host}"`));
      return { profile, home, local: view };
    },
    async stop() {
      await dockerd?.stop();
      if (view !== '') rmdirSync(join(view, '..'));
      removeDirs(made);
    },
  };
}

export const UP_TARGETS: readonly (() => UpTarget)[] = [
  localTarget,
  () => sshTarget('node'),
  () => sshTarget('none'),
  () => dockerTarget('node'),
  () => dockerTarget('busybox'),
];

/** Processes naming `sessionTmp` (but this scan). */
function processesNaming(sessionTmp: string): string[] {
  const ps = spawnSync('ps', ['-e', '-o', 'args='], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((p) => p.includes(sessionTmp) && !p.startsWith('ps '));
}

/** libfuse's auto_unmount helper outlives its mount by the moment it takes to see our exit. */
const HELPER_GRACE_MS = 2000;

/** What a run left behind: session directories, FUSE mounts, processes naming them. */
export function leftovers(sessionTmp: string): string[] {
  const found = readdirSync(sessionTmp).map((e) => `session directory ${e}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(sessionTmp)) found.push(`mount ${line}`);
  let procs = processesNaming(sessionTmp);
  for (
    const until = Date.now() + HELPER_GRACE_MS;
    procs.length > 0 && procs.every((p) => p.startsWith('fusermount3 ')) && Date.now() < until;
  ) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    procs = processesNaming(sessionTmp);
  }
  return [...found, ...procs.map((p) => `process ${p}`)];
}

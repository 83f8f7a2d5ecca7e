/**
 * `mproxy exec`: one command on the target with this process's stdio wired to it, signals
 * forwarded, and its exit status returned as a shell would report it.
 */
import { constants } from 'node:os';
import { envFilter } from '../broker/env-filter.js';
import type { Profile } from '../profile/schema.js';
import { shellStatus, type RemoteHost, type RemoteInfo } from '../remote/host.js';

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function signalNumber(name: string): number | undefined {
  return (constants.signals as Record<string, number | undefined>)[name];
}

/** Where the command runs: the workspace (first mount) on the remote, else the remote home. */
export function remoteWorkdir(profile: Profile, home: string): string {
  const remote = profile.mounts?.[0]?.remote;
  if (remote === undefined) return home;
  return remote === '~' ? home : remote.startsWith('~/') ? `${home}/${remote.slice(2)}` : remote;
}

/** What `ssh host cmd` would start from: the remote user's own identity and PATH. */
export function remoteLoginEnv(info: RemoteInfo): Record<string, string> {
  return { HOME: info.home, USER: info.user, LOGNAME: info.user, SHELL: info.shell, PATH: info.path };
}

export interface ExecStdio {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function runRemoteCommand(host: RemoteHost, profile: Profile, argv: readonly string[], stdio: ExecStdio): Promise<number> {
  const info = host.info();
  const env = { ...remoteLoginEnv(info), ...envFilter(profile.env)(process.env) };
  const proc = host.exec({ argv, env, cwd: remoteWorkdir(profile, info.home) });
  stdio.stdin.pipe(proc.stdin);
  proc.stdout.pipe(stdio.stdout, { end: false });
  proc.stderr.pipe(stdio.stderr, { end: false });
  const forward = FORWARDED_SIGNALS.map((sig) => {
    const handler = (): void => proc.signal(sig);
    process.on(sig, handler);
    return () => process.off(sig, handler);
  });
  try {
    const status = await proc.exited;
    await Promise.all([drained(proc.stdout), drained(proc.stderr)]);
    return shellStatus(status, signalNumber);
  } finally {
    for (const off of forward) off();
    stdio.stdin.unpipe(proc.stdin);
    if ('pause' in stdio.stdin) stdio.stdin.pause();
  }
}

function drained(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as { readableEnded?: boolean }).readableEnded === true) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
}

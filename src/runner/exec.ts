/**
 * `mproxy exec`: one command on the target with this process's stdio wired to it, signals
 * forwarded, and its exit status returned as a shell would report it.
 */
import { envFilter, remoteEnv } from '../broker/env-filter.js';
import { signalNumber } from '../broker/signals.js';
import { onRemote } from '../profile/runtime.js';
import type { Profile } from '../profile/schema.js';
import { shellStatus, type RemoteHost } from '../remote/host.js';

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Where the command runs: the workspace (first mount) on the remote, else the remote home. */
export function remoteWorkdir(profile: Profile, home: string): string {
  const remote = profile.mounts?.[0]?.remote;
  return remote === undefined ? home : onRemote(remote, home);
}

export interface ExecStdio {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** The local terminal, when the command gets a pty: raw mode while it runs, its size followed. */
export interface LocalTerminal {
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WriteStream;
  readonly term: string;
}

/** The terminal to hand the command, if `want` (default: stdin is one) and stdin really is one. */
export function localTerminal(want: boolean | undefined, env: NodeJS.ProcessEnv): LocalTerminal | undefined {
  if (want === false || !process.stdin.isTTY) return undefined;
  return {
    input: process.stdin,
    output: process.stdout.isTTY ? process.stdout : (process.stderr as NodeJS.WriteStream),
    term: env['TERM'] ?? 'xterm-256color',
  };
}

/** `localEnv`: this side's environment, filtered by [env] on its way. */
export async function runRemoteCommand(
  host: RemoteHost,
  profile: Profile,
  argv: readonly string[],
  localEnv: NodeJS.ProcessEnv,
  stdio: ExecStdio,
  tty?: LocalTerminal,
): Promise<number> {
  const info = host.info();
  // A host that did not ask for the login's facts has the remote fill them in (host.ts).
  const login = info.loginAtStart === true;
  const env = login ? envFilter(profile.env)(localEnv) : remoteEnv(info, profile.env)(localEnv);
  const size = (): { cols: number; rows: number } => ({ cols: tty?.output.columns ?? 80, rows: tty?.output.rows ?? 24 });
  const proc = host.exec({
    argv,
    env,
    cwd: remoteWorkdir(profile, login ? '~' : info.home),
    ...(login ? { login } : {}),
    ...(tty !== undefined ? { pty: { ...size(), term: tty.term } } : {}),
  });
  const onResize = (): void => proc.resize(size().cols, size().rows);
  if (tty !== undefined) {
    const { spawnSync } = await import('node:child_process'); // here only: not on every exec's path
    // Keys go to the remote as typed: Ctrl-C there is the remote terminal's interrupt.
    tty.input.setRawMode(true);
    // libuv's raw mode keeps output processing (\n → \r\n): the remote pty already did that.
    spawnSync('stty', ['-opost'], { stdio: [0, 'ignore', 'ignore'] }); // tty.input is fd 0
    tty.output.on('resize', onResize);
  }
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
    if (tty !== undefined) {
      tty.input.setRawMode(false);
      tty.output.off('resize', onResize);
    }
    for (const off of forward) off();
    stdio.stdin.unpipe(proc.stdin);
    if ('pause' in stdio.stdin) stdio.stdin.pause();
  }
}

/** Resolves when `stream` has given all it had (or was closed). */
export function drained(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as { readableEnded?: boolean }).readableEnded === true) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
}

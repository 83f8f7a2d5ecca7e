/**
 * One `docker exec` with its stdio as streams: stdout and stderr separated from Docker's
 * multiplexed stream (or, on a pty, the terminal's one raw stream), stdin on the hijacked
 * connection (ended to send EOF), and the exit code asked of the daemon once output has ended.
 */
import { PassThrough, type Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import type { DockerClient } from './client.js';
import type { PtyRequest } from '../../protocol/frames.js';
import { scriptDeadline, withTimeout } from '../../util/deadline.js';
import { MproxyError } from '../../util/errors.js';
import type { ScriptResult } from '../transport.js';

export interface DockerExec {
  readonly stdin: Duplex;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** Exit code, once the process has ended and its output is drained; null if unknown. */
  readonly exitCode: Promise<number | null>;
  resize(cols: number, rows: number): void;
}

/** The daemon may report the exec running for a moment after its stream ended. */
async function finalCode(exec: Dockerode.Exec): Promise<number | null> {
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect().catch(() => undefined);
    if (info === undefined) return null;
    if (!info.Running) return info.ExitCode ?? null;
    await sleep(10);
  }
  return null;
}

export async function dockerExec(
  docker: DockerClient,
  container: Dockerode.Container,
  cmd: readonly string[],
  description: string,
  pty?: PtyRequest,
): Promise<DockerExec> {
  let exec: Dockerode.Exec;
  let stream: Duplex;
  try {
    exec = await container.exec({
      Cmd: [...cmd],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: pty !== undefined,
      ...(pty !== undefined ? { Env: [`TERM=${pty.term || 'xterm'}`] } : {}),
    });
    stream = (await exec.start({ hijack: true, stdin: true, ...(pty !== undefined ? { Tty: true } : {}) })) as Duplex;
  } catch (err) {
    throw new MproxyError('E_DOCKER', `cannot run a command in ${description}: ${(err as Error).message}`, {
      hint: 'is the container still running? (docker ps)',
      cause: err,
    });
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (pty !== undefined) {
    stream.pipe(stdout);
    stderr.end();
  } else docker.modem.demuxStream(stream, stdout, stderr);
  const exitCode = new Promise<number | null>((resolve) => {
    let ended = false;
    const done = (): void => {
      if (ended) return;
      ended = true;
      if (pty === undefined) stdout.end();
      stderr.end();
      // The process is gone: input still queued for it (a reader that stopped early, `yes |
      // head`) will never be read, and the connection holding it would keep mproxy from exiting.
      resolve(finalCode(exec).finally(() => stream.destroy()));
    };
    stream.once('end', done);
    stream.once('close', done);
  });
  stream.on('error', () => undefined);
  return {
    stdin: stream,
    stdout,
    stderr,
    exitCode,
    resize: (cols, rows) => void exec.resize({ h: rows, w: cols }).catch(() => undefined),
  };
}

/** A short script in the container, within `timeoutMs` (plus time for its input); a late one is abandoned with E_TIMEOUT. */
export async function runDockerScript(
  docker: DockerClient,
  container: Dockerode.Container,
  script: string,
  description: string,
  timeoutMs: number,
  input?: Uint8Array,
): Promise<ScriptResult> {
  const timeout = (): MproxyError =>
    new MproxyError('E_TIMEOUT', `a shell command in ${description} did not finish within ${(ms / 1000).toFixed(0)}s`, {
      hint: ['is the container paused or overloaded? (docker ps shows it)', 'target.op_timeout sets this deadline'],
    });
  const ms = scriptDeadline(timeoutMs, input);
  const e = await withTimeout(dockerExec(docker, container, ['/bin/sh', '-c', script], description), ms, timeout);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  e.stdout.on('data', (d: Buffer) => out.push(d));
  e.stderr.on('data', (d: Buffer) => err.push(d));
  e.stdin.end(input);
  const code = await withTimeout(e.exitCode, ms, timeout, () => e.stdin.destroy());
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

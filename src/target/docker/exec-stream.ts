/**
 * One `docker exec` with its stdio as streams: stdout and stderr separated from Docker's
 * multiplexed stream, stdin on the hijacked connection (ended to send EOF), and the exit code
 * asked of the daemon once the output has ended.
 */
import { PassThrough, type Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { MproxyError } from '../../util/errors.js';

export interface DockerExec {
  readonly stdin: Duplex;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** Exit code, once the process has ended and its output is drained. */
  readonly exitCode: Promise<number | null>;
}

export async function dockerExec(docker: Dockerode, container: Dockerode.Container, cmd: readonly string[], description: string): Promise<DockerExec> {
  let exec: Dockerode.Exec;
  let stream: Duplex;
  try {
    exec = await container.exec({ Cmd: [...cmd], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
  } catch (err) {
    throw new MproxyError('E_DOCKER', `cannot run a command in ${description}: ${(err as Error).message}`, { hint: 'is the container still running? (docker ps)', cause: err });
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  const exitCode = new Promise<number | null>((resolve) => {
    const done = (): void => {
      stdout.end();
      stderr.end();
      exec.inspect().then(
        (info) => resolve(info.ExitCode ?? null),
        () => resolve(null),
      );
    };
    stream.once('end', done);
    stream.once('close', done);
  });
  stream.on('error', () => undefined);
  return { stdin: stream, stdout, stderr, exitCode };
}

export async function runDockerScript(docker: Dockerode, container: Dockerode.Container, script: string, description: string, input?: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const e = await dockerExec(docker, container, ['/bin/sh', '-c', script], description);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  e.stdout.on('data', (d: Buffer) => out.push(d));
  e.stderr.on('data', (d: Buffer) => err.push(d));
  e.stdin.end(input);
  const code = await e.exitCode;
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

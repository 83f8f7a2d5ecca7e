/** Helpers for the conformance cases: run a command on a RemoteHost and collect what it printed. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ExecRequest, ExitStatus, RemoteHost } from '../../src/remote/host.js';

export interface Ran extends ExitStatus {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export function hashOf(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      h.update(c);
      bytes += c.length;
    });
    stream.on('end', () => resolve({ sha256: h.digest('hex'), bytes }));
    stream.on('error', reject);
  });
}

/** A command on the remote through `host`, its output collected. */
export async function runRemote(
  host: RemoteHost,
  argv: readonly string[],
  options: Partial<ExecRequest> & { input?: string | Buffer } = {},
): Promise<Ran> {
  const proc = host.exec({
    argv,
    env: options.env ?? { PATH: '/usr/local/bin:/usr/bin:/bin' },
    cwd: options.cwd ?? '/',
    ...(options.fds !== undefined ? { fds: options.fds } : {}),
  });
  proc.stdin.end(options.input ?? '');
  const [stdout, stderr, status] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.exited]);
  return { ...status, stdout, stderr };
}

export async function sh(host: RemoteHost, script: string, options: Partial<ExecRequest> & { input?: string | Buffer } = {}): Promise<Ran> {
  return runRemote(host, ['/bin/sh', '-c', script], options);
}

/**
 * The local transport: /bin/sh as a child process of mproxy on this machine, over pipes. It
 * carries the `local` target (the embedded default for demos and the reference backend of the
 * conformance suite), which always runs the agent.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { scriptDeadline, withTimeout } from '../util/deadline.js';
import { MproxyError } from '../util/errors.js';
import type { ExecChannel, ExecOptions, ExitStatus, ScriptResult, Transport } from './transport.js';

export class LocalTransport implements Transport {
  readonly description = 'this machine';
  readonly execCarries = 'a local exec carries stdin, stdout and stderr only';
  private readonly children = new Set<ReturnType<typeof spawn>>();
  private closed = false;

  constructor(private readonly opTimeoutMs: number) {}

  get isLost(): boolean {
    return this.closed;
  }

  async exec(script: string, options: ExecOptions = {}): Promise<ExecChannel> {
    if (this.closed) throw new MproxyError('E_CONNECTION_LOST', 'the local transport was closed');
    if (options.pty !== undefined) throw new MproxyError('E_EXEC', 'the local transport has no terminals of its own; the agent gives them');
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    const status = new Promise<ExitStatus | null>((resolve) => {
      child.once('error', () => resolve(null));
      child.once('close', (code, signal) => resolve(code !== null ? { code, signal: null } : { code: null, signal }));
    }).finally(() => this.children.delete(child));
    child.stdin.on('error', () => undefined);
    await Promise.race([once(child, 'spawn'), status.then(() => undefined)]);
    if (child.pid === undefined) throw new MproxyError('E_EXEC', 'cannot start /bin/sh on this machine');
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      status,
      resize: () => undefined,
      close: () => child.kill('SIGKILL'),
    };
  }

  async runScript(script: string, input?: Uint8Array): Promise<ScriptResult> {
    const channel = await this.exec(script);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    channel.stdout.on('data', (d: Buffer) => out.push(d));
    channel.stderr.on('data', (d: Buffer) => err.push(d));
    channel.stdin.end(input);
    const ms = scriptDeadline(this.opTimeoutMs, input);
    const status = await withTimeout(
      channel.status,
      ms,
      () => new MproxyError('E_TIMEOUT', `a shell command on this machine did not finish within ${(ms / 1000).toFixed(0)}s`),
      () => channel.close(),
    );
    return { code: status?.code ?? null, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const child of this.children) child.kill('SIGKILL');
  }
}

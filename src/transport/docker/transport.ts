/**
 * The Docker transport: every exec a `docker exec` of /bin/sh in one running container. A failed
 * exec asks the daemon whether the container is still running; one that is not (stopped,
 * removed) makes the transport lost.
 */
import { constants } from 'node:os';
import type Dockerode from 'dockerode';
import type { DockerClient } from './client.js';
import { MproxyError } from '../../util/errors.js';
import type { ExecChannel, ExecOptions, ExitStatus, ScriptResult, Transport } from '../transport.js';
import { dockerExec, runDockerScript } from './exec-stream.js';

/** Docker reports death by signal N as exit code 128+N: read it back as the signal. */
function statusOf(code: number | null): ExitStatus | null {
  if (code === null) return null;
  if (code > 128 && code <= 128 + 64) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name !== undefined) return { code: null, signal: name };
  }
  return { code, signal: null };
}

export class DockerTransport implements Transport {
  readonly execCarries = 'docker exec carries stdin, stdout and stderr only';
  private closed = false;
  private gone = false;

  constructor(
    private readonly docker: DockerClient,
    private readonly container: Dockerode.Container,
    readonly description: string,
    /** The deadline of each script. */
    private readonly opTimeoutMs: number,
  ) {}

  get isLost(): boolean {
    return this.closed || this.gone;
  }

  async exec(script: string, options: ExecOptions = {}): Promise<ExecChannel> {
    this.checkOpen();
    const e = await dockerExec(this.docker, this.container, ['/bin/sh', '-c', script], this.description, options.pty).catch(
      async (err: unknown) => {
        await this.checkGone();
        throw err;
      },
    );
    return {
      stdin: e.stdin,
      stdout: e.stdout,
      stderr: e.stderr,
      status: e.exitCode.then(statusOf),
      resize: (cols, rows) => e.resize(cols, rows),
      close: () => e.stdin.destroy(),
    };
  }

  async runScript(script: string, input?: Uint8Array): Promise<ScriptResult> {
    this.checkOpen();
    try {
      return await runDockerScript(this.docker, this.container, script, this.description, this.opTimeoutMs, input);
    } catch (err) {
      await this.checkGone();
      throw err;
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new MproxyError('E_CONNECTION_LOST', `the connection to ${this.description} was closed`);
  }

  /** After a failed exec: is the container still there and running? */
  private async checkGone(): Promise<void> {
    const state = await this.container.inspect().catch(() => undefined);
    if (state?.State.Running !== true) this.gone = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

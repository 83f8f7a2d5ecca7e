/**
 * Docker containers without node >= 18: each process is a `docker exec` of the agentless
 * script (remote/agentless/script.ts), files are sh scripts run the same way (ShellFs), and
 * signals are a `kill` exec'd beside the process. Every operation is an exec, so this tier is
 * slower than the agent (tens of ms per call) but needs nothing in the image but a POSIX sh
 * with busybox-level tools.
 */
import { constants } from 'node:os';
import type Dockerode from 'dockerode';
import type { PathEntry } from '../../protocol/frames.js';
import type { ExecRequest, ExitStatus, RemoteHost, RemoteInfo, RemoteProcess } from '../../remote/host.js';
import { listExecutables } from '../../remote/agentless/path-list.js';
import { AgentlessProcess, refusedProcess, type ExecTransport } from '../../remote/agentless/process.js';
import { execScript, killScript } from '../../remote/agentless/script.js';
import { ShellFs } from '../../remote/agentless/sh-fs.js';
import { numericIds } from '../../remote/agentless/ssh-host.js';
import { MproxyError } from '../../util/errors.js';
import { dockerExec, runDockerScript } from './exec-stream.js';

const LIMITS: RemoteInfo['limitations'] = [
  { feature: 'extra-fds', why: 'docker exec carries stdin, stdout and stderr only; fds 3+ need the agent' },
  { feature: 'watch', why: 'no change notices (inotify) without the agent: mounts rely on short cache lifetimes' },
];
const MARK = 'MPROXY-INFO:';

/** Docker reports death by signal N as exit code 128+N: read it back as the signal. */
function statusOf(code: number | null): ExitStatus | null {
  if (code === null) return null;
  if (code > 128 && code <= 128 + 64) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name !== undefined) return { code: null, signal: name };
  }
  return { code, signal: null };
}

export class DockerAgentlessHost implements RemoteHost {
  readonly fs: ShellFs;
  private closed = false;
  private gone = false;

  private constructor(
    private readonly docker: Dockerode,
    private readonly container: Dockerode.Container,
    private readonly description: string,
    private readonly remote: RemoteInfo,
    private readonly opTimeoutMs: number,
  ) {
    this.fs = new ShellFs((script, stdin) => this.script(script, stdin));
  }

  /** `opTimeoutMs`: the deadline of each script (file operations, signals, the probe). */
  static async start(
    docker: Dockerode,
    container: Dockerode.Container,
    description: string,
    opTimeoutMs: number,
  ): Promise<DockerAgentlessHost> {
    const probe = await runDockerScript(
      docker,
      container,
      ['HOME', '$(id -un 2>/dev/null)', 'PATH', 'SHELL:-/bin/sh', '$(uname -s) $(uname -m)', '$(id -u) $(id -g)']
        .map((v) => `printf '%s%s\\n' ${MARK} "${v.startsWith('$') ? v : `\${${v}}`}"`)
        .join('\n'),
      description,
      opTimeoutMs,
    );
    const [home = '/', user = '', path = '/usr/bin:/bin', shell = '/bin/sh', system = '', ids = ''] = probe.stdout
      .toString()
      .split('\n')
      .filter((l) => l.startsWith(MARK))
      .map((l) => l.slice(MARK.length));
    const [platform = 'unknown', arch = 'unknown'] = system.split(' ');
    const info: RemoteInfo = {
      tier: 'agentless',
      platform: platform.toLowerCase(),
      arch,
      home,
      user: user || 'root',
      path,
      shell,
      ...numericIds(ids),
      capabilities: ['exec', 'fs', 'path', 'signals', 'pty'],
      limitations: LIMITS,
    };
    return new DockerAgentlessHost(docker, container, description, info, opTimeoutMs);
  }

  get isLost(): boolean {
    return this.closed || this.gone;
  }

  info(): RemoteInfo {
    return this.remote;
  }

  private async script(script: string, stdin?: Uint8Array): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
    if (this.closed) throw new MproxyError('E_CONNECTION_LOST', `the connection to ${this.description} was closed`);
    try {
      return await runDockerScript(this.docker, this.container, script, this.description, this.opTimeoutMs, stdin);
    } catch (err) {
      await this.checkGone();
      throw err;
    }
  }

  /** After a failed exec: is the container still there and running? */
  private async checkGone(): Promise<void> {
    const state = await this.container.inspect().catch(() => undefined);
    if (state?.State.Running !== true) this.gone = true;
  }

  exec(request: ExecRequest): RemoteProcess {
    if ((request.fds ?? []).length > 0)
      return refusedProcess(request, new MproxyError('E_EXEC', 'extra file descriptors need the agent (node >= 18 in the container)'));
    const pty = request.pty;
    const opening = (async (): Promise<ExecTransport> => {
      if (this.closed) throw new MproxyError('E_CONNECTION_LOST', `the connection to ${this.description} was closed`);
      const e = await dockerExec(
        this.docker,
        this.container,
        ['/bin/sh', '-c', execScript(request, { pty: pty !== undefined })],
        this.description,
        pty,
      ).catch(async (err: unknown) => {
        await this.checkGone();
        throw err;
      });
      return {
        stdin: e.stdin,
        stdout: e.stdout,
        stderr: e.stderr,
        status: e.exitCode.then(statusOf),
        resize: (cols, rows) => e.resize(cols, rows),
      };
    })();
    return new AgentlessProcess(opening, request, (pid, signal) => this.signalGroup(pid, signal));
  }

  private signalGroup(pid: number, signal: string): void {
    const script = killScript(pid, signal);
    if (script !== undefined && !this.closed)
      void runDockerScript(this.docker, this.container, script, this.description, this.opTimeoutMs).catch(() => undefined);
  }

  pathQuery(dirs: readonly string[] = []): Promise<PathEntry[]> {
    return listExecutables(this.fs, dirs.length > 0 ? dirs : this.remote.path.split(':').filter((d) => d !== ''));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

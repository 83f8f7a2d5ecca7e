/**
 * RemoteHost for SSH remotes without the agent: processes on exec channels, files over SFTP,
 * PATH from the login environment. sshd allows ten sessions per connection by default
 * (MaxSessions), so channels are spread over a small pool of connections, opened as needed,
 * and requests beyond the pool's capacity wait their turn instead of failing.
 */
import type { PathEntry, PtyRequest } from '../../protocol/frames.js';
import { closeConnection, type SshConnection } from '../../target/ssh/connection.js';
import { collectChannel, openExec, runScript, shWrapped } from '../../target/ssh/exec-channel.js';
import type { ClientChannel, SftpWrapper } from '../../target/ssh/ssh2.js';
import { MproxyError } from '../../util/errors.js';
import type { ExecRequest, RemoteHost, RemoteInfo } from '../host.js';
import { SftpFs } from './sftp-fs.js';
import { listExecutables } from './path-list.js';
import { AgentlessProcess, refusedProcess } from './process.js';
import { killScript, START } from './script.js';
import { ShellFs, type ShellResult } from './sh-fs.js';
import { octalCommand, sshBoot, sshTransport } from './ssh-process.js';

const SESSIONS_PER_CONNECTION = 10;
const MAX_CONNECTIONS = 8;
const MARK = 'MPROXY-INFO:';
/** Handles of the sh fallback are numbered from here, apart from SFTP's. */
const SHELL_HANDLES = 2 ** 30;

const AGENTLESS_SSH_LIMITS: RemoteInfo['limitations'] = [
  { feature: 'extra-fds', why: 'an SSH session carries stdin, stdout and stderr only; fds 3+ need the agent' },
  { feature: 'inodes', why: 'SFTP reports no inode numbers or link counts' },
  { feature: 'sparse-files', why: 'SFTP reports no allocated block counts' },
  { feature: 'watch', why: 'no change notices (inotify) without the agent: mounts rely on short cache lifetimes' },
];

/** `uid gid` as `id -u; id -g` print them, if they do. */
export function numericIds(line: string): { uid?: number; gid?: number } {
  const m = /^(\d+) (\d+)$/.exec(line.trim());
  return m === null ? {} : { uid: Number(m[1]), gid: Number(m[2]) };
}

interface Slot {
  readonly conn: SshConnection;
  open: number;
  limit: number;
}

export class AgentlessSshHost implements RemoteHost {
  private readonly slots: Slot[];
  private readonly waiting: (() => void)[] = [];
  private opening: Promise<void> | undefined;
  private closed = false;
  private lost = false;

  private constructor(
    first: SshConnection,
    private readonly connectMore: () => Promise<SshConnection>,
    private readonly remote: RemoteInfo,
    readonly fs: SftpFs,
  ) {
    // The SFTP session holds one of the first connection's sessions.
    this.slots = [{ conn: first, open: 1, limit: SESSIONS_PER_CONNECTION }];
    // Without the first connection there is no SFTP: the host is gone.
    first.client.once('close', () => (this.lost = true));
  }

  get isLost(): boolean {
    return this.lost || this.closed;
  }

  static async start(first: SshConnection, connectMore: () => Promise<SshConnection>): Promise<AgentlessSshHost> {
    const probe = await runScript(first.client, ['printf "%s%s\\n" MPROXY-INFO: "$HOME"', 'printf "%s%s\\n" MPROXY-INFO: "$(id -un)"', 'printf "%s%s\\n" MPROXY-INFO: "$PATH"', 'printf "%s%s\\n" MPROXY-INFO: "${SHELL:-/bin/sh}"', 'printf "%s%s\\n" MPROXY-INFO: "$(uname -s) $(uname -m)"', 'printf "%s%s\\n" MPROXY-INFO: "$(id -u) $(id -g)"'].join('\n'), first.description);
    const [home = '/', user = '', path = '/usr/bin:/bin', shell = '/bin/sh', system = '', ids = ''] = probe.stdout.split('\n').filter((l) => l.startsWith(MARK)).map((l) => l.slice(MARK.length));
    const [platform = 'unknown', arch = 'unknown'] = system.split(' ');
    const sftp = await new Promise<SftpWrapper>((resolve, reject) =>
      first.client.sftp((err, s) => (err ? reject(new MproxyError('E_SSH_CONNECT', `${first.description} has no SFTP subsystem: ${err.message}`, { hint: 'enable `Subsystem sftp` in the server\'s sshd_config, or install node >= 18 there for the agent' })) : resolve(s))),
    );
    const info: RemoteInfo = { tier: 'agentless', platform: platform.toLowerCase(), arch, home, user, path, shell, ...numericIds(ids), capabilities: ['exec', 'fs', 'path', 'signals', 'pty'], limitations: AGENTLESS_SSH_LIMITS };
    let host: AgentlessSshHost | undefined;
    // What SFTP cannot carry (paths that are not UTF-8) goes through sh on exec channels.
    const viaSh = new ShellFs((script, stdin) => (host !== undefined ? host.runShell(script, stdin) : Promise.reject(new Error('not started'))), SHELL_HANDLES);
    host = new AgentlessSshHost(first, connectMore, info, new SftpFs(sftp, viaSh));
    return host;
  }

  /**
   * One sh script on an exec channel of the pool, its output collected: what the login shell
   * printed before the script's start markers is cut off.
   */
  private async runShell(script: string, stdin?: Uint8Array): Promise<ShellResult> {
    const marked = `printf '\\000mproxy:start\\n'; printf '\\000mproxy:start\\n' >&2\n${script}`;
    const r = await collectChannel(await this.channel(octalCommand(marked)), stdin);
    const afterMarker = (all: Buffer): Buffer => {
      const at = all.indexOf(`${START}\n`, 0, 'latin1');
      return at < 0 ? all : all.subarray(at + START.length + 1);
    };
    return { code: r.code, stdout: afterMarker(r.stdout), stderr: afterMarker(r.stderr) };
  }

  info(): RemoteInfo {
    return this.remote;
  }

  exec(request: ExecRequest): AgentlessProcess {
    if ((request.fds ?? []).length > 0) return refusedProcess(request, new MproxyError('E_EXEC', 'extra file descriptors need the agent (node >= 18 on the remote)'));
    const boot = sshBoot(request);
    const opening = this.channel(boot.command, request.pty).then(sshTransport);
    return new AgentlessProcess(opening, request, (pid, signal) => this.signalGroup(pid, signal), boot.preamble);
  }

  /** `kill` to the process group, on a channel of its own. */
  private signalGroup(pid: number, signal: string): void {
    const script = killScript(pid, signal);
    if (script === undefined) return;
    this.channel(shWrapped(script)).then(
      (channel) => {
        channel.resume();
        channel.stderr.resume();
        channel.end();
      },
      () => undefined,
    );
  }

  /** An exec channel on a connection with a free session, opening or waiting for one. */
  private async channel(command: string, pty?: PtyRequest): Promise<ClientChannel> {
    for (;;) {
      if (this.closed) throw new MproxyError('E_CONNECTION_LOST', 'the connection was closed');
      const slot = this.slots.find((s) => s.open < s.limit);
      if (slot !== undefined) {
        slot.open++;
        try {
          const channel = await openExec(slot.conn.client, command, slot.conn.description, pty);
          channel.once('close', () => this.release(slot));
          return channel;
        } catch (err) {
          // The server allows fewer sessions than assumed: remember, try elsewhere.
          slot.open--;
          if (slot.open === 0) throw err;
          slot.limit = slot.open;
          continue;
        }
      }
      if (this.slots.length < MAX_CONNECTIONS) {
        this.opening ??= this.connectMore().then(
          (conn) => {
            this.slots.push({ conn, open: 0, limit: SESSIONS_PER_CONNECTION });
            this.opening = undefined;
          },
          (err: unknown) => {
            this.opening = undefined;
            throw err;
          },
        );
        await this.opening;
        continue;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(slot: Slot): void {
    slot.open--;
    this.waiting.shift()?.();
  }

  pathQuery(dirs: readonly string[] = []): Promise<PathEntry[]> {
    return listExecutables(this.fs, dirs.length > 0 ? dirs : this.remote.path.split(':').filter((d) => d !== ''));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w();
    for (const s of this.slots) closeConnection(s.conn);
  }
}

/**
 * RemoteHost for SSH remotes without the agent: processes on exec channels, files over SFTP,
 * PATH from the login environment. sshd allows ten sessions per connection by default
 * (MaxSessions), so channels are spread over a small pool of connections, opened as needed,
 * and requests beyond the pool's capacity wait their turn instead of failing. One session of each
 * connection is kept for signals, and a connection that closes leaves the pool.
 */
import type { PathEntry, PtyRequest } from '../../protocol/frames.js';
import { closeConnection, type SshConnection } from '../../target/ssh/connection.js';
import { collectWithin, openExec, runScript, shWrapped } from '../../target/ssh/exec-channel.js';
import { scriptDeadline, withTimeout } from '../../util/deadline.js';
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
/** Sessions of each connection kept for signals: Ctrl-C must reach a command even when every other session is busy. */
const RESERVED_FOR_SIGNALS = 1;
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
  /** The connection for signals when the pool has no session left (opened on first need). */
  private signals: Promise<SshConnection> | undefined;
  private closed = false;
  private lost = false;

  private constructor(
    first: SshConnection,
    private readonly connectMore: () => Promise<SshConnection>,
    private readonly remote: RemoteInfo,
    readonly fs: SftpFs,
    private readonly opTimeoutMs: number,
  ) {
    // The SFTP session holds one of the first connection's sessions.
    this.slots = [{ conn: first, open: 1, limit: SESSIONS_PER_CONNECTION }];
    // Without the first connection there is no SFTP: the host is gone.
    first.client.once('close', () => (this.lost = true));
  }

  get isLost(): boolean {
    return this.lost || this.closed;
  }

  /** `opTimeoutMs`: the deadline of each file operation, script and session opened. */
  static async start(first: SshConnection, connectMore: () => Promise<SshConnection>, opTimeoutMs: number): Promise<AgentlessSshHost> {
    const probe = await runScript(
      first.client,
      [
        'printf "%s%s\\n" MPROXY-INFO: "$HOME"',
        'printf "%s%s\\n" MPROXY-INFO: "$(id -un)"',
        'printf "%s%s\\n" MPROXY-INFO: "$PATH"',
        'printf "%s%s\\n" MPROXY-INFO: "${SHELL:-/bin/sh}"',
        'printf "%s%s\\n" MPROXY-INFO: "$(uname -s) $(uname -m)"',
        'printf "%s%s\\n" MPROXY-INFO: "$(id -u) $(id -g)"',
      ].join('\n'),
      first.description,
      opTimeoutMs,
    );
    const [home = '/', user = '', path = '/usr/bin:/bin', shell = '/bin/sh', system = '', ids = ''] = probe.stdout
      .split('\n')
      .filter((l) => l.startsWith(MARK))
      .map((l) => l.slice(MARK.length));
    const [platform = 'unknown', arch = 'unknown'] = system.split(' ');
    const sftp = await withTimeout(
      new Promise<SftpWrapper>((resolve, reject) =>
        first.client.sftp((err, s) =>
          err
            ? reject(
                new MproxyError('E_SSH_CONNECT', `${first.description} has no SFTP subsystem: ${err.message}`, {
                  hint: "enable `Subsystem sftp` in the server's sshd_config, or install node >= 18 there for the agent",
                }),
              )
            : resolve(s),
        ),
      ),
      opTimeoutMs,
      () =>
        new MproxyError('E_TIMEOUT', `${first.description} did not start its SFTP subsystem within ${opTimeoutMs / 1000}s`, {
          hint: 'target.op_timeout sets this deadline',
        }),
    );
    const info: RemoteInfo = {
      tier: 'agentless',
      platform: platform.toLowerCase(),
      arch,
      home,
      user,
      path,
      shell,
      ...numericIds(ids),
      capabilities: ['exec', 'fs', 'path', 'signals', 'pty'],
      limitations: AGENTLESS_SSH_LIMITS,
    };
    let host: AgentlessSshHost | undefined;
    // What SFTP cannot carry (paths that are not UTF-8) goes through sh on exec channels.
    const viaSh = new ShellFs(
      (script, stdin) => (host !== undefined ? host.runShell(script, stdin) : Promise.reject(new Error('not started'))),
      SHELL_HANDLES,
    );
    host = new AgentlessSshHost(first, connectMore, info, new SftpFs(sftp, opTimeoutMs, viaSh), opTimeoutMs);
    return host;
  }

  /**
   * One sh script on an exec channel of the pool, its output collected: what the login shell
   * printed before the script's start markers is cut off.
   */
  private async runShell(script: string, stdin?: Uint8Array): Promise<ShellResult> {
    const marked = `printf '\\000mproxy:start\\n'; printf '\\000mproxy:start\\n' >&2\n${script}`;
    const r = await collectWithin(
      await this.channel(octalCommand(marked)),
      stdin,
      scriptDeadline(this.opTimeoutMs, stdin),
      `a file operation on ${this.slots[0]?.conn.description ?? 'the remote'}`,
    );
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
    if ((request.fds ?? []).length > 0)
      return refusedProcess(request, new MproxyError('E_EXEC', 'extra file descriptors need the agent (node >= 18 on the remote)'));
    const boot = sshBoot(request);
    const opening = this.channel(boot.command, request.pty).then(sshTransport);
    return new AgentlessProcess(opening, request, (pid, signal) => this.signalGroup(pid, signal), boot.preamble);
  }

  /** `kill` to the process group, on a channel of its own. */
  private signalGroup(pid: number, signal: string): void {
    const script = killScript(pid, signal);
    if (script === undefined) return;
    this.signalChannel(shWrapped(script)).then(
      (channel) => {
        channel.resume();
        channel.stderr.resume();
        channel.end();
      },
      () => undefined,
    );
  }

  /**
   * A channel for a signal, never waiting behind busy commands: a connection's reserved session,
   * or, when a server allowing fewer sessions than assumed has them all taken, a connection kept
   * for signals alone.
   */
  private async signalChannel(command: string): Promise<ClientChannel> {
    if (this.slots.some((s) => s.open < s.limit)) return this.channel(command, undefined, true);
    if (this.signals === undefined) {
      const opening = this.connectMore();
      this.signals = opening;
      opening.then(
        (conn) => conn.client.once('close', () => this.signals === opening && (this.signals = undefined)),
        () => this.signals === opening && (this.signals = undefined),
      );
    }
    const conn = await this.signals;
    return openExec(conn.client, command, conn.description);
  }

  /**
   * An exec channel on a connection with a free session, opening or waiting for one. `forSignal`:
   * may take a connection's reserved session.
   */
  private async channel(command: string, pty?: PtyRequest, forSignal = false): Promise<ClientChannel> {
    for (;;) {
      if (this.closed) throw new MproxyError('E_CONNECTION_LOST', 'the connection was closed');
      const slot = this.slots.find((s) => s.open < s.limit - (forSignal ? 0 : RESERVED_FOR_SIGNALS));
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
            const slot: Slot = { conn, open: 0, limit: SESSIONS_PER_CONNECTION };
            this.slots.push(slot);
            // A connection that drops leaves the pool (its channels close with it); the next request opens another.
            conn.client.once('close', () => {
              const at = this.slots.indexOf(slot);
              if (at > 0) this.slots.splice(at, 1);
              this.waiting.shift()?.();
            });
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
    this.signals?.then(closeConnection, () => undefined);
  }
}

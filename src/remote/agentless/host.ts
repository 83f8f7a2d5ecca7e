/**
 * RemoteHost for remotes without the agent, over any transport: each process is one exec of the
 * agentless script (script.ts), files go over SFTP where the transport has it (else sh scripts:
 * ShellFs), signals are a `kill` run beside the process, PATH comes from the login environment
 * and is listed by one script. Every operation is an exec or an SFTP request, so this tier is
 * slower than the agent, but it needs nothing on the remote but a POSIX sh with busybox-level tools.
 */
import type { PathEntry } from '../../protocol/frames.js';
import type { Duplex } from 'node:stream';
import type { NetAddress } from '../../protocol/net-frames.js';
import type { NetListener, Transport } from '../../transport/transport.js';
import { MproxyError } from '../../util/errors.js';
import type { ExecRequest, RemoteFs, RemoteHost, RemoteInfo } from '../host.js';
import type { FileOpArgs, FileOpName, FileOpResult } from '../../protocol/file-ops.js';
import { queryPath } from './path-list.js';
import { AgentlessProcess, refusedProcess } from './process.js';
import { execScript, killScript } from './script.js';
import { SftpFs } from './sftp-fs.js';
import { ShellFs } from './sh-fs.js';

const MARK = 'MPROXY-INFO:';
/** Handles of the sh fallback are numbered from here, apart from SFTP's. */
const SHELL_HANDLES = 2 ** 30;

/** The login environment's facts, one marked line each (a login shell may print around them). */
const INFO_SCRIPT = [
  '"$HOME"',
  '"$(id -un 2>/dev/null)"',
  '"$PATH"',
  '"${SHELL:-/bin/sh}"',
  '"$(uname -s) $(uname -m)"',
  '"$(id -u) $(id -g)"',
]
  .map((v) => `printf '%s%s\\n' ${MARK} ${v}`)
  .join('\n');

/** `uid gid` as `id -u; id -g` print them, if they do. */
export function numericIds(line: string): { uid?: number; gid?: number } {
  const m = /^(\d+) (\d+)$/.exec(line.trim());
  return m === null ? {} : { uid: Number(m[1]), gid: Number(m[2]) };
}

/** What the probe printed, as the host's RemoteInfo. */
export function remoteInfo(stdout: string, limitations: RemoteInfo['limitations']): RemoteInfo {
  const [home = '/', user = '', path = '/usr/bin:/bin', shell = '/bin/sh', system = '', ids = ''] = stdout
    .split('\n')
    .filter((l) => l.startsWith(MARK))
    .map((l) => l.slice(MARK.length));
  const [platform = 'unknown', arch = 'unknown'] = system.split(' ');
  return {
    tier: 'agentless',
    platform: platform.toLowerCase(),
    arch,
    home,
    user: user || 'root',
    path,
    shell,
    ...numericIds(ids),
    capabilities: ['exec', 'fs', 'path', 'signals', 'pty'],
    limitations,
  };
}

/** A file backend opened at its first call (again after an open that failed). */
class LazyFs implements RemoteFs {
  private opened: Promise<RemoteFs> | undefined;

  constructor(private readonly open: () => Promise<RemoteFs>) {}

  call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> {
    const opened = (this.opened ??= this.open());
    opened.catch(() => {
      if (this.opened === opened) this.opened = undefined;
    });
    return opened.then((fs) => fs.call(op, ...args));
  }
}

export class AgentlessHost implements RemoteHost {
  /** Forwarding only where the transport does it itself (SSH): without the agent nobody opens sockets there. */
  declare readonly connect?: (to: NetAddress) => Promise<Duplex>;
  declare readonly listen?: (at: NetAddress, onConnection: (c: Duplex) => void) => Promise<NetListener>;
  /** Signals on their way, as "pid signal". */
  private readonly signalling = new Set<string>();

  private constructor(
    private readonly transport: Transport,
    private readonly remote: RemoteInfo,
    readonly fs: RemoteFs,
  ) {
    const { connectTo, listenOn } = transport;
    if (connectTo !== undefined && listenOn !== undefined) {
      this.connect = connectTo.bind(transport);
      this.listen = listenOn.bind(transport);
    }
  }

  /**
   * `opTimeoutMs`: the deadline of each file operation (the transport's scripts keep their own).
   * `probe: false` (one command to run): the login facts are not asked for, and each exec reads
   * them where it starts (RemoteInfo.loginAtStart) — on Docker a whole `docker exec` saved.
   */
  static async start(transport: Transport, opTimeoutMs: number, options: { readonly probe?: boolean } = {}): Promise<AgentlessHost> {
    const probe = options.probe === false ? undefined : await transport.runScript(INFO_SCRIPT);
    const run = (script: string, stdin?: Uint8Array) => transport.runScript(script, stdin);
    // What SFTP cannot carry (paths that are not UTF-8) goes through sh on exec channels. SFTP
    // opens at the first file operation: one command (`exec`) never starts sftp-server.
    const sftp = transport.sftp?.bind(transport);
    const fs =
      sftp !== undefined
        ? new LazyFs(async () => new SftpFs(await sftp(), opTimeoutMs, new ShellFs(run, SHELL_HANDLES)))
        : new ShellFs(run);
    const limitations: RemoteInfo['limitations'] = [
      { feature: 'extra-fds', why: `${transport.execCarries}; fds 3+ need the agent` },
      ...(sftp !== undefined
        ? ([
            { feature: 'inodes', why: 'SFTP reports no inode numbers or link counts' },
            { feature: 'sparse-files', why: 'SFTP reports no allocated block counts' },
          ] as const)
        : []),
      { feature: 'watch', why: 'no change notices (inotify) without the agent: mounts rely on short cache lifetimes' },
      ...(transport.connectTo === undefined
        ? ([{ feature: 'forwards', why: `${transport.execCarries}: ports and sockets need the agent (node >= 18) there` }] as const)
        : []),
    ];
    const info: RemoteInfo =
      probe !== undefined
        ? remoteInfo(probe.stdout.toString(), limitations)
        : { ...remoteInfo('', limitations), home: '', user: '', path: '', shell: '', loginAtStart: true };
    return new AgentlessHost(transport, info, fs);
  }

  get isLost(): boolean {
    return this.transport.isLost;
  }

  info(): RemoteInfo {
    return this.remote;
  }

  exec(request: ExecRequest): AgentlessProcess {
    if ((request.fds ?? []).length > 0)
      return refusedProcess(request, new MproxyError('E_EXEC', 'extra file descriptors need the agent (node >= 18 on the remote)'));
    const pty = request.pty;
    const opening = this.transport.exec(execScript(request, { pty: pty !== undefined }), pty !== undefined ? { pty } : {});
    return new AgentlessProcess(opening, request, (pid, signal) => this.signalGroup(pid, signal));
  }

  /**
   * `kill` to the process group, on a session kept for it where the transport has one. The same
   * signal to the same group while one is on its way is that one (the kernel merges them too):
   * a burst — Ctrl-C held down, a writer told of each piece a gone reader missed — costs one
   * session, not one each (sshd refuses sessions past MaxSessions).
   */
  private signalGroup(pid: number, signal: string): void {
    const script = killScript(pid, signal);
    const key = `${pid} ${signal}`;
    if (script === undefined || this.transport.isLost || this.signalling.has(key)) return;
    this.signalling.add(key);
    void this.transport
      .runScript(script, undefined, { urgent: true })
      .catch(() => undefined)
      .finally(() => this.signalling.delete(key));
  }

  pathQuery(dirs: readonly string[] = []): Promise<PathEntry[]> {
    const asked = dirs.length > 0 ? dirs : this.remote.path.split(':').filter((d) => d !== '');
    return queryPath((script) => this.transport.runScript(script), this.fs, asked);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/**
 * RemoteHost: everything mproxy needs of the other machine, whatever the transport (ssh,
 * docker, local) and tier (agent, agentless). One conformance suite runs against every
 * implementation (test/conformance/).
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { FileOpArgs, FileOpName, FileOpResult } from '../protocol/file-ops.js';
import type { ChangeKind, FileOpen, PathEntry, PipeJoin, PtyRequest } from '../protocol/frames.js';
import type { NetAddress } from '../protocol/net-frames.js';
import type { ExitStatus, NetListener } from '../transport/transport.js';

export interface ExecRequest {
  readonly argv: readonly string[];
  /** The complete environment of the process (already filtered). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Extra fds (3, 4, …) to carry, at the same numbers. */
  readonly fds?: readonly number[];
  /** Per extra fd: 'r' the process reads it, 'w' it writes it (a real pipe where the tier can). */
  readonly fdModes?: string;
  readonly pty?: PtyRequest;
  /** Fds joined to another exec of this host by a pipe there (hosts whose info lists 'pipes'). */
  readonly joins?: readonly PipeJoin[];
  /** Files the remote opens for the process itself, at those fds (hosts whose info lists 'files'). */
  readonly files?: readonly FileOpen[];
  /**
   * Only for a host whose info says `loginAtStart`: `env` comes on top of the remote login's
   * HOME, USER, LOGNAME, SHELL and PATH, read where the process starts, and a `cwd` of `~` or
   * `~/…` is under that HOME.
   */
  readonly login?: true;
}

export type { ExitStatus } from '../transport/transport.js';

export interface RemoteProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Extra fds by number: each readable (what the process writes) and writable (what it reads). */
  readonly fds: ReadonlyMap<number, { readonly input: Writable; readonly output: Readable }>;
  /** Resolves when the process has exited and its output is drained; rejects if it could not start. */
  readonly exited: Promise<ExitStatus>;
  /**
   * Where the tier can tell: resolves once the command has reached the remote (it may run from
   * then on), rejects when it never did — nothing ran, so it may be sent again.
   */
  readonly sent?: Promise<void>;
  signal(name: string): void;
  resize(cols: number, rows: number): void;
}

export interface RemoteFs {
  call<K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>>;
}

export interface RemoteInfo {
  readonly tier: 'agent' | 'agentless';
  readonly platform: string;
  readonly arch: string;
  readonly home: string;
  readonly user: string;
  /** The remote login environment's PATH and SHELL. */
  readonly path: string;
  readonly shell: string;
  readonly capabilities: readonly string[];
  /** The remote user's numeric ids, where known (mounts show them as the local user's). */
  readonly uid?: number;
  readonly gid?: number;
  /** What this tier cannot do, each with the reason: shown by `mproxy doctor`, and tests expect it. */
  readonly limitations: readonly Limitation[];
  /**
   * The login facts were not asked for (one command, agentless: a round trip saved): home,
   * user, path and shell are empty, platform and arch "unknown", and each exec is sent with
   * `login` so the remote fills them in as it starts the process.
   */
  readonly loginAtStart?: true;
}

export type LimitedFeature = 'extra-fds' | 'inodes' | 'sparse-files' | 'non-utf8-paths' | 'pty' | 'watch' | 'forwards';

/**
 * Told the name of an entry that changed in a watched directory (null: anything may have), and
 * how, where the tier says: its contents or attributes (change), or the name itself (rename).
 */
export type WatchListener = (name: Uint8Array | null, kind?: ChangeKind) => void;

export interface RemoteWatch {
  close(): void;
}

export interface Limitation {
  readonly feature: LimitedFeature;
  readonly why: string;
}

/** A listener on the remote, made by RemoteHost.listen: the port bound (port 0 asked for any; 0 for a socket). */
export type RemoteListener = NetListener;

export interface RemoteHost {
  readonly fs: RemoteFs;
  /** True once the connection is gone for good (a new one is needed). */
  readonly isLost: boolean;
  /** Counts reconnects: file handles from an earlier generation name nothing now. */
  readonly generation?: number;
  exec(request: ExecRequest): RemoteProcess;
  pathQuery(dirs?: readonly string[]): Promise<PathEntry[]>;
  /**
   * Change notices for one directory (not its subdirectories), where the tier can give them
   * (`watch` among the capabilities). When the connection goes, every listener hears null once.
   */
  watch?(dir: Uint8Array, onChange: WatchListener): Promise<RemoteWatch>;
  /** A connection to `to` as the remote sees it (its loopback, its sockets), where the tier can. */
  connect?(to: NetAddress): Promise<Duplex>;
  /** A listener on the remote at `at`; each connection it accepts goes to `onConnection`. */
  listen?(at: NetAddress, onConnection: (connection: Duplex) => void): Promise<RemoteListener>;
  info(): RemoteInfo;
  close(): Promise<void>;
}

/** A file operation that failed on the remote, with its errno name. */
export class RemoteFsError extends Error {
  override readonly name = 'RemoteFsError';
  constructor(
    readonly code: string,
    message: string,
    readonly op: string,
  ) {
    super(`${op}: ${message}`);
  }
}

/** Exit status as a shell reports it: the code, or 128+N for death by signal N. */
export function shellStatus(status: ExitStatus, signalNumber: (name: string) => number | undefined): number {
  if (status.code !== null) return status.code;
  const n = status.signal === null ? undefined : signalNumber(status.signal);
  return n === undefined ? 255 : 128 + n;
}

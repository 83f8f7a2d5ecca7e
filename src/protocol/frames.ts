/**
 * The frames spoken between mproxy and its agent. Each frame is one CBOR map `{t: type, …}`
 * behind a 4-byte big-endian length (codec.ts). Paths in file operations are byte strings, so
 * names that are not UTF-8 survive; argv, env and cwd are text (what spawn accepts).
 *
 * Exec streams are numbered per process: 0 stdin, 1 stdout, 2 stderr, 3+ extra fds. Each data
 * direction of each stream has a window of WINDOW bytes: the sender stops when it has sent a
 * window's worth not yet acknowledged, the receiver acknowledges (Ack) what its consumer took,
 * in batches of at least ACK_BATCH bytes (or everything, once the stream has ended). A sender
 * that stalls has a whole window outstanding, which its consumer reading always acknowledges.
 * One slow reader therefore never stalls the others sharing the connection.
 */
import { NET_T, type NetFrame } from './net-frames.js';

export const PROTOCOL_VERSION = 1;
/** Written by the agent before its first frame: everything before it (a login banner, .bashrc chatter) is skipped. */
export const SYNC_MARKER = Buffer.from('\0\0mproxy-agent-sync\0', 'latin1');
export const WINDOW = 4 * 1024 * 1024;
/** Acks carry at least this much (a quarter window): one per data frame would double the frame count. */
export const ACK_BATCH = WINDOW / 4;
export const MAX_FRAME = 16 * 1024 * 1024;
export const MAX_CHUNK = 256 * 1024;

export const T = {
  Hello: 0,
  Exec: 1,
  Data: 2,
  Eof: 3,
  Signal: 4,
  Exit: 5,
  Error: 6,
  Log: 7,
  PathQuery: 9,
  PathInfo: 10,
  FileOp: 11,
  FileResp: 12,
  Resize: 13,
  Watch: 14,
  Invalidate: 15,
  Ack: 16,
  Unwatch: 17,
  ...NET_T,
} as const;

export type FrameTypeName = keyof typeof T;

/** Capabilities an agent may announce in Hello. */
export type Capability = 'exec' | 'fs' | 'path' | 'pty' | 'signals' | 'watch' | 'net' | 'pipes' | 'files';

export interface HelloFrame {
  readonly t: typeof T.Hello;
  readonly v: number;
  readonly caps: readonly Capability[];
  /** Agent side only: what it runs on. */
  readonly info?: AgentInfo;
}

export interface AgentInfo {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly pid: number;
  readonly home: string;
  readonly user: string;
  /** The agent's own PATH and SHELL: the remote login environment commands start from. */
  readonly path: string;
  /** Numeric ids of the remote user (newer agents). */
  readonly uid?: number;
  readonly gid?: number;
  readonly shell: string;
}

export interface PtyRequest {
  readonly cols: number;
  readonly rows: number;
  readonly term: string;
}

export interface ExecFrame {
  readonly t: typeof T.Exec;
  readonly id: number;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Extra fds (3, 4, …) to open as pipes in the child, at these numbers. */
  readonly fds: readonly number[];
  /**
   * Per extra fd, 'r' (the child reads it) or 'w' (it writes it): such an fd is a real pipe, so
   * `/dev/fd/N` opens (`diff <(a) <(b)`). Without: a socket the child may read and write.
   */
  readonly fdModes?: string;
  readonly pty?: PtyRequest;
  /**
   * Fds joined to another process of this connection by a pipe on the remote: the two Exec
   * frames of a pipeline name the same `pipe`, one with end 'w' (it writes), one with 'r'. Such
   * an fd carries no stream (an output's Eof comes at once); the agent makes the pipe for the
   * first of the two and closes its copies once both have started (or after a bound).
   */
  readonly joins?: readonly PipeJoin[];
  /**
   * Files the agent opens for the child itself (a redirection to or from a mount: the bytes stay
   * on the remote): one open each, at position 0 (or appending), placed at every fd of `fds`.
   * The Exit frame says where each was left (`pos`).
   */
  readonly files?: readonly FileOpen[];
}

export interface FileOpen {
  readonly fds: readonly number[];
  readonly path: string;
  readonly mode: 'r' | 'w' | 'rw';
  readonly append?: true;
}

export interface PipeJoin {
  readonly fd: number;
  readonly pipe: string;
  readonly end: 'r' | 'w';
}

export interface DataFrame {
  readonly t: typeof T.Data;
  readonly id: number;
  readonly s: number;
  readonly d: Uint8Array;
}

export interface EofFrame {
  readonly t: typeof T.Eof;
  readonly id: number;
  readonly s: number;
}

export interface AckFrame {
  readonly t: typeof T.Ack;
  readonly id: number;
  readonly s: number;
  readonly n: number;
}

export interface SignalFrame {
  readonly t: typeof T.Signal;
  readonly id: number;
  readonly sig: string;
}

export interface ResizeFrame {
  readonly t: typeof T.Resize;
  readonly id: number;
  readonly cols: number;
  readonly rows: number;
}

export interface ExitFrame {
  readonly t: typeof T.Exit;
  readonly id: number;
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  readonly sig: string | null;
  /** Per entry of the Exec's `files`: its position when the process exited (-1: unknown). */
  readonly pos?: readonly number[];
}

/** A failure tied to request `id` (0: the connection itself). `code` is an errno name or E_… */
export interface ErrorFrame {
  readonly t: typeof T.Error;
  readonly id: number;
  readonly code: string;
  readonly msg: string;
}

export interface LogFrame {
  readonly t: typeof T.Log;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
}

export interface PathQueryFrame {
  readonly t: typeof T.PathQuery;
  readonly id: number;
  /** Directories to list; empty: the agent's own PATH. */
  readonly dirs: readonly string[];
}

export interface PathEntry {
  readonly name: string;
  readonly path: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
}

export interface PathInfoFrame {
  readonly t: typeof T.PathInfo;
  readonly id: number;
  readonly entries: readonly PathEntry[];
}

export interface FileOpFrame {
  readonly t: typeof T.FileOp;
  readonly id: number;
  readonly op: string;
  readonly a: readonly unknown[];
}

export interface FileRespFrame {
  readonly t: typeof T.FileResp;
  readonly id: number;
  /** The result on success. */
  readonly r?: unknown;
  /** errno name (ENOENT, EACCES…) on failure, with `m` the message. */
  readonly e?: string;
  readonly m?: string;
}

/** Watch a directory (client → agent): answered by FileResp {id} (r: null, or e/m). */
export interface WatchFrame {
  readonly t: typeof T.Watch;
  readonly id: number;
  readonly path: Uint8Array;
}

/**
 * Something in watched directory `id` changed (agent → client): the entry `name`, or, when
 * null, anything in it (events were lost, or the directory itself went away).
 */
export interface InvalidateFrame {
  readonly t: typeof T.Invalidate;
  readonly id: number;
  readonly name: Uint8Array | null;
  /** change: the entry's contents or attributes; rename: it appeared, vanished or moved. Absent: either. */
  readonly k?: ChangeKind;
}

export type ChangeKind = 'change' | 'rename';

export interface UnwatchFrame {
  readonly t: typeof T.Unwatch;
  readonly id: number;
}

export type Frame =
  | HelloFrame
  | WatchFrame
  | InvalidateFrame
  | UnwatchFrame
  | ExecFrame
  | DataFrame
  | EofFrame
  | AckFrame
  | SignalFrame
  | ResizeFrame
  | ExitFrame
  | ErrorFrame
  | LogFrame
  | PathQueryFrame
  | PathInfoFrame
  | FileOpFrame
  | FileRespFrame
  | NetFrame;

export type FrameOf<K extends Frame['t']> = Extract<Frame, { t: K }>;

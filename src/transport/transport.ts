/**
 * The transport seam: how bytes reach the other machine, whatever carries them (an SSH
 * connection, the Docker daemon, a child process here). The tiers in src/remote (the agent,
 * agentless) are built over this interface alone; src/remote imports nothing else of
 * src/transport.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import type { PtyRequest } from '../protocol/frames.js';
import type { NetAddress } from '../protocol/net-frames.js';

/** An SFTP session (ssh2's), for the transports that have one. */
export type Sftp = SFTPWrapper;

export interface ExitStatus {
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  readonly signal: string | null;
  /** Per file the remote opened for the process (ExecRequest.files): where it was left, -1 unknown. */
  readonly positions?: readonly number[];
}

/** One running exec: its stdio, its end, its terminal. */
export interface ExecChannel {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Empty on a pty (the terminal carries both). */
  readonly stderr: Readable;
  /** The exit status, or null when the transport closed without one (connection lost). */
  readonly status: Promise<ExitStatus | null>;
  resize(cols: number, rows: number): void;
  /** Ends it now: stdin closed, the channel torn down. */
  close(): void;
}

/** What a short script left behind. */
export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export interface ExecOptions {
  readonly pty?: PtyRequest;
  /**
   * A signal or other message that must not wait behind busy commands: the transport may use a
   * session it keeps for these.
   */
  readonly urgent?: boolean;
}

/** A listener on the other machine: the port it bound (0 for a Unix socket), and its end. */
export interface NetListener {
  readonly port: number;
  close(): Promise<void>;
}

export interface Transport {
  /** Words for messages: "builder@build01:22", "container dev", "this machine". */
  readonly description: string;
  /** Why extra fds (3+) cannot travel on a plain exec of this transport (the agentless tier says so). */
  readonly execCarries: string;
  /** True once the machine is unreachable through this transport for good. */
  readonly isLost: boolean;
  /**
   * Runs a POSIX sh `script` under /bin/sh, whatever the login shell, the process's stdin free
   * for the caller from its first byte. Waits for a free session where the server limits them.
   */
  exec(script: string, options?: ExecOptions): Promise<ExecChannel>;
  /**
   * Runs a short script with `input` on its stdin and collects its output, within `timeoutMs`
   * (plus time for the input); what a login shell printed before the script is not included.
   */
  runScript(script: string, input?: Uint8Array, options?: { readonly urgent?: boolean }): Promise<ScriptResult>;
  /** An SFTP session, where the transport has one. */
  sftp?(): Promise<Sftp>;
  /** A connection to `to` as the other machine sees it, where the transport forwards itself (SSH). */
  connectTo?(to: NetAddress): Promise<Duplex>;
  /** A listener on the other machine, where the transport forwards itself (SSH). */
  listenOn?(at: NetAddress, onConnection: (connection: Duplex) => void): Promise<NetListener>;
  /** Ends the transport and everything opened through it. */
  close(): Promise<void>;
}

/** The exec channel's end, for callers that hand its close to someone else: stdin ended, then closed within `graceMs`. */
export async function endChannel(channel: ExecChannel, graceMs = 2000): Promise<void> {
  channel.stdin.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([channel.status, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  channel.close();
}

/**
 * The SSH transport: exec channels and SFTP over a small pool of connections to one destination.
 * sshd allows ten sessions per connection by default (MaxSessions), so channels are spread over
 * connections opened as needed (the agent tier never needs a second), and requests beyond the
 * pool's capacity wait their turn instead of failing. One session of each connection is kept
 * for urgent messages (signals), and a connection that closes leaves the pool; without the first
 * one (it holds SFTP) the transport is lost.
 */
import { scriptDeadline, withTimeout } from '../../util/deadline.js';
import { MproxyError } from '../../util/errors.js';
import type { Duplex } from 'node:stream';
import type { NetAddress } from '../../protocol/net-frames.js';
import type { ExecChannel, ExecOptions, NetListener, ScriptResult, Sftp, Transport } from '../transport.js';
import { closeConnection, type SshConnection } from './connection.js';
import { collectWithin, execChannel, loginCommand, octalCommand, openExec } from './exec-channel.js';
import { sshConnect, sshListen } from './forwarding.js';
import type { ClientChannel } from './ssh2.js';

const SESSIONS_PER_CONNECTION = 10;
const MAX_CONNECTIONS = 8;
/** Sessions of each connection kept for signals: Ctrl-C must reach a command even when every other session is busy. */
const RESERVED_FOR_URGENT = 1;
/** Printed by a script's wrapper before the script: what precedes it is a login shell talking. */
const START = '\u0000mproxy:script';

interface Slot {
  readonly conn: SshConnection;
  open: number;
  limit: number;
}

export class SshTransport implements Transport {
  readonly description: string;
  readonly execCarries = 'an SSH session carries stdin, stdout and stderr only';
  private readonly slots: Slot[];
  private readonly waiting: (() => void)[] = [];
  private opening: Promise<void> | undefined;
  /** The connection for urgent messages when the pool has no session left (opened on first need). */
  private urgentConn: Promise<SshConnection> | undefined;
  private sftpSession: Promise<Sftp> | undefined;
  private closed = false;
  private lost = false;

  constructor(
    first: SshConnection,
    private readonly connectMore: () => Promise<SshConnection>,
    /** The deadline of each script and of opening SFTP. */
    private readonly opTimeoutMs: number,
  ) {
    this.description = first.description;
    this.slots = [{ conn: first, open: 0, limit: SESSIONS_PER_CONNECTION }];
    first.client.once('close', () => (this.lost = true));
  }

  get isLost(): boolean {
    return this.lost || this.closed;
  }

  async exec(script: string, options: ExecOptions = {}): Promise<ExecChannel> {
    const login = loginCommand(script, options.pty !== undefined);
    return execChannel(await this.channel(login.command, options), login.preamble);
  }

  async runScript(script: string, input?: Uint8Array, options: { readonly urgent?: boolean } = {}): Promise<ScriptResult> {
    const marked = `printf '\\000mproxy:script\\n'; printf '\\000mproxy:script\\n' >&2\n${script}`;
    const channel = await withTimeout(
      this.channel(octalCommand(marked), options),
      this.opTimeoutMs,
      () =>
        new MproxyError('E_TIMEOUT', `${this.description} did not open a session within ${this.opTimeoutMs / 1000}s`, {
          hint: 'target.op_timeout sets this deadline',
        }),
    );
    const r = await collectWithin(channel, input, scriptDeadline(this.opTimeoutMs, input), `a shell command on ${this.description}`);
    const afterMarker = (all: Buffer): Buffer => {
      const at = all.indexOf(`${START}\n`, 0, 'latin1');
      return at < 0 ? all : all.subarray(at + START.length + 1);
    };
    return { code: r.code, stdout: afterMarker(r.stdout), stderr: afterMarker(r.stderr) };
  }

  /** Forwarding rides on the first connection, as SFTP does (direct-tcpip channels are not sessions). */
  connectTo(to: NetAddress): Promise<Duplex> {
    const first = this.slots[0];
    if (first === undefined || this.isLost) return Promise.reject(new MproxyError('E_CONNECTION_LOST', 'the connection was closed'));
    return sshConnect(first.conn.client, this.description, to, this.opTimeoutMs);
  }

  listenOn(at: NetAddress, onConnection: (c: Duplex) => void): Promise<NetListener> {
    const first = this.slots[0];
    if (first === undefined || this.isLost) return Promise.reject(new MproxyError('E_CONNECTION_LOST', 'the connection was closed'));
    return sshListen(first.conn.client, this.description, at, onConnection, this.opTimeoutMs);
  }

  sftp(): Promise<Sftp> {
    this.sftpSession ??= this.openSftp();
    return this.sftpSession;
  }

  private openSftp(): Promise<Sftp> {
    const first = this.slots[0];
    if (first === undefined || this.isLost) return Promise.reject(new MproxyError('E_CONNECTION_LOST', 'the connection was closed'));
    // The SFTP session holds one of the first connection's sessions for good.
    first.open++;
    return withTimeout(
      new Promise<Sftp>((resolve, reject) =>
        first.conn.client.sftp((err, s) =>
          err
            ? reject(
                new MproxyError('E_SSH_CONNECT', `${this.description} has no SFTP subsystem: ${err.message}`, {
                  hint: "enable `Subsystem sftp` in the server's sshd_config, or install node >= 18 there for the agent",
                }),
              )
            : resolve(s),
        ),
      ),
      this.opTimeoutMs,
      () =>
        new MproxyError('E_TIMEOUT', `${this.description} did not start its SFTP subsystem within ${this.opTimeoutMs / 1000}s`, {
          hint: 'target.op_timeout sets this deadline',
        }),
    );
  }

  /**
   * An exec channel on a connection with a free session, opening or waiting for one. Urgent
   * requests may take a connection's reserved session, or, when a server allowing fewer sessions
   * than assumed has them all taken, a connection kept for them alone.
   */
  private async channel(command: string, options: ExecOptions): Promise<ClientChannel> {
    const urgent = options.urgent === true;
    for (;;) {
      if (this.closed) throw new MproxyError('E_CONNECTION_LOST', 'the connection was closed');
      const slot = this.slots.find((s) => s.open < s.limit - (urgent ? 0 : RESERVED_FOR_URGENT));
      if (slot !== undefined) {
        slot.open++;
        try {
          const channel = await openExec(slot.conn.client, command, slot.conn.description, options.pty);
          channel.once('close', () => this.release(slot));
          return channel;
        } catch (err) {
          slot.open--;
          // Its connection dropped meanwhile (and left the pool): another one serves.
          if (!this.slots.includes(slot) && !this.isLost) continue;
          // The server allows fewer sessions than assumed: remember, try elsewhere.
          if (slot.open === 0) throw err;
          slot.limit = slot.open;
          continue;
        }
      }
      // A signal never waits behind the commands it is meant to stop.
      if (urgent) {
        const conn = await this.urgentConnection();
        return openExec(conn.client, command, conn.description, options.pty);
      }
      if (this.slots.length < MAX_CONNECTIONS) {
        await this.growPool();
        continue;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private growPool(): Promise<void> {
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
    return this.opening;
  }

  private urgentConnection(): Promise<SshConnection> {
    if (this.urgentConn === undefined) {
      const opening = this.connectMore();
      this.urgentConn = opening;
      opening.then(
        (conn) => conn.client.once('close', () => this.urgentConn === opening && (this.urgentConn = undefined)),
        () => this.urgentConn === opening && (this.urgentConn = undefined),
      );
    }
    return this.urgentConn;
  }

  private release(slot: Slot): void {
    slot.open--;
    this.waiting.shift()?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w();
    for (const s of this.slots) closeConnection(s.conn);
    this.urgentConn?.then(closeConnection, () => undefined);
  }
}

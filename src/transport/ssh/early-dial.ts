/**
 * The first TCP connection of an SSH transport, opened before ssh2 is loaded: sshd takes ~20 ms
 * here to fork and greet a new connection, and loading ssh2 (~25 ms) fills that wait instead of
 * following it. Only for a direct connection (no jump host); this module does not load ssh2.
 */
import type { Socket } from 'node:net';
import type { SshDestination, SshOptions } from './connection.js';
import { openTcp } from './socket.js';
import { type ResolvedHop, resolveHop } from './ssh-config.js';

export interface EarlyDial {
  /** The destination as ~/.ssh/config resolved it (openSsh does not read the config again). */
  readonly hop: ResolvedHop;
  /** The connection, or the sentence openTcp gives when it fails (awaited by whoever uses it). */
  readonly sock: Promise<Socket>;
}

/** The connection `openSsh(dest, options)` would open first, already on its way; undefined through a jump host. */
export function dialEarly(dest: SshDestination, options: SshOptions): EarlyDial | undefined {
  const hop = resolveHop(dest, options);
  if ((options.jump ?? hop.cfg.proxyJump) !== undefined) return undefined;
  const sock = openTcp(hop.host, hop.port, options.connectTimeoutMs);
  // Its failure is reported where it is used; until then it must not count as unhandled.
  sock.catch(() => undefined);
  return { hop, sock };
}

/**
 * The ssh transport's front: a connection per the options (from the profile and ~/.ssh), made
 * into a SshTransport that opens more connections to the same destination as it needs them.
 */
import { openSsh, type SshDestination, type SshOptions } from './connection.js';
import type { EarlyDial } from './early-dial.js';
import { SshTransport } from './transport.js';

export type { SshDestination, SshOptions } from './connection.js';

/** `early`: the first connection, opened by dialEarly while this module loaded. */
export async function openSshTransport(dest: SshDestination, options: SshOptions, early?: EarlyDial): Promise<SshTransport> {
  const first = await openSsh(dest, options, undefined, 0, early);
  return new SshTransport(first, () => openSsh(dest, options), options.opTimeoutMs);
}

/** `user@host:port` as messages name a destination. */
export function describeDestination(dest: SshDestination): string {
  return `${dest.user !== undefined ? `${dest.user}@` : ''}${dest.host}${dest.port !== undefined ? `:${dest.port}` : ''}`;
}

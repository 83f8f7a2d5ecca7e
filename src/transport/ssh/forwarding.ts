/**
 * Port and socket forwarding by sshd itself, on one SSH connection: a connection out is a
 * direct-tcpip (or OpenSSH's direct-streamlocal) channel, a remote listener a tcpip-forward (or
 * streamlocal-forward) request whose connections arrive as channels. sshd does the socket work,
 * so either tier forwards at the speed of the connection.
 */
import type { Duplex } from 'node:stream';
import type { NetAddress } from '../../protocol/net-frames.js';
import { withTimeout } from '../../util/deadline.js';
import { MproxyError } from '../../util/errors.js';
import type { NetListener } from '../transport.js';
import type { ClientChannel, SshClient } from './ssh2.js';

/** Where sshd forwards from, as ssh -L says it: this end of the tunnel. */
const ORIGIN = '127.0.0.1';

function describe(a: NetAddress): string {
  return 'path' in a ? a.path : `${a.host}:${a.port}`;
}

function refused(what: string, where: string, err: Error): MproxyError {
  return new MproxyError('E_CONNECTION_LOST', `${what} on ${where}: ${err.message}`, {
    hint: 'sshd_config may forbid it: AllowTcpForwarding / AllowStreamLocalForwarding',
    cause: err,
  });
}

export function sshConnect(client: SshClient, where: string, to: NetAddress, timeoutMs: number): Promise<Duplex> {
  const opening = new Promise<ClientChannel>((resolve, reject) => {
    const done = (err: Error | undefined, channel: ClientChannel): void =>
      err !== undefined && err !== null ? reject(refused(`connecting to ${describe(to)}`, where, err)) : resolve(channel);
    if ('path' in to) client.openssh_forwardOutStreamLocal(to.path, done);
    else client.forwardOut(ORIGIN, 0, to.host, to.port, done);
  });
  return withTimeout(opening, timeoutMs, () => new MproxyError('E_TIMEOUT', `connecting to ${describe(to)} on ${where} got no answer`));
}

/** Accepted connections go to the listener registered for their address on this client. */
interface Routes {
  readonly tcp: Map<string, (c: Duplex) => void>;
  readonly unix: Map<string, (c: Duplex) => void>;
}

const ROUTES = new WeakMap<SshClient, Routes>();

function routesOf(client: SshClient): Routes {
  let routes = ROUTES.get(client);
  if (routes !== undefined) return routes;
  const made: Routes = { tcp: new Map(), unix: new Map() };
  routes = made;
  ROUTES.set(client, made);
  client.on('tcp connection', (info, accept, reject) => {
    const hand = made.tcp.get(`${info.destIP}:${info.destPort}`);
    if (hand === undefined) return reject();
    hand(accept());
  });
  client.on('unix connection', (info, accept, reject) => {
    const hand = made.unix.get(info.socketPath);
    if (hand === undefined) return reject();
    hand(accept());
  });
  return made;
}

export async function sshListen(
  client: SshClient,
  where: string,
  at: NetAddress,
  onConnection: (c: Duplex) => void,
  timeoutMs: number,
): Promise<NetListener> {
  const routes = routesOf(client);
  const deadline = (): MproxyError => new MproxyError('E_TIMEOUT', `listening at ${describe(at)} on ${where} got no answer`);
  if ('path' in at) {
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        client.openssh_forwardInStreamLocal(at.path, (err) => (err ? reject(refused(`listening at ${at.path}`, where, err)) : resolve())),
      ),
      timeoutMs,
      deadline,
    );
    routes.unix.set(at.path, onConnection);
    return {
      port: 0,
      close: () => {
        routes.unix.delete(at.path);
        return new Promise<void>((resolve) => client.openssh_unforwardInStreamLocal(at.path, () => resolve()));
      },
    };
  }
  const port = await withTimeout(
    new Promise<number>((resolve, reject) =>
      client.forwardIn(at.host, at.port, (err, bound) =>
        err ? reject(refused(`listening at ${describe(at)}`, where, err)) : resolve(at.port === 0 ? bound : at.port),
      ),
    ),
    timeoutMs,
    deadline,
  );
  const key = `${at.host}:${port}`;
  routes.tcp.set(key, onConnection);
  return {
    port,
    close: () => {
      routes.tcp.delete(key);
      return new Promise<void>((resolve) => client.unforwardIn(at.host, port, () => resolve()));
    },
  };
}

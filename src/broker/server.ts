/**
 * The session's broker: a Unix socket in the session's 0700 directory, answering each shim
 * (one connection per command) with a ShimConnection. Closing it hangs up on every command
 * still running.
 */
import { chmodSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { MproxyError, messageOf } from '../util/errors.js';
import { ShimConnection, type BrokerContext } from './shim-connection.js';

export interface Broker {
  close(): Promise<void>;
}

export async function startBroker(socketPath: string, ctx: BrokerContext): Promise<Broker> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new ShimConnection(socket, ctx);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new MproxyError('E_SANDBOX', `cannot listen on ${socketPath}: ${messageOf(err)}`)));
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

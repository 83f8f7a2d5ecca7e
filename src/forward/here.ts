/**
 * This machine's end of a forward: a listener on 127.0.0.1 (or the host a profile names) or a
 * Unix socket, refused with a clear error when the place is taken; and connections out to a
 * local service. A socket file left by a crashed run (nobody answers on it) is replaced; one
 * something listens on, or a file that is not a socket, is never touched.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { type Endpoint, endpointText } from '../util/endpoint.js';
import { MproxyError } from '../util/errors.js';

export interface LocalListener {
  /** The port bound (0 for a socket). */
  readonly port: number;
  close(): Promise<void>;
}

/** Whether something accepts connections on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function clearStaleSocket(path: string, pointer: string | undefined): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  const taken = (why: string): MproxyError =>
    new MproxyError('E_LISTEN', `cannot listen at ${path}: ${why}`, {
      hint: 'pick another path, or stop what uses it',
      ...(pointer !== undefined ? { pointer } : {}),
    });
  if (!isSocket) throw taken('a file that is not a socket is there');
  if (await answers(path)) throw taken('something listens there already');
  unlinkSync(path);
}

export async function listenHere(at: Endpoint, onConnection: (s: Socket) => void, pointer?: string): Promise<LocalListener> {
  if ('path' in at) await clearStaleSocket(at.path, pointer);
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'it is in use here' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(
        new MproxyError('E_LISTEN', `cannot listen at ${endpointText(at)}: ${why}`, {
          hint: err.code === 'EADDRINUSE' ? 'pick another local port, or stop what uses it (ss -ltnp shows it)' : [],
          ...(pointer !== undefined ? { pointer } : {}),
        }),
      );
    });
    if ('path' in at) server.listen(at.path, resolve);
    else server.listen(at.port, at.host, resolve);
  });
  // Connections already joined go on until their ends close them; the listener stops now.
  return listenerOf(server);
}

/** A listening server as a LocalListener; `dropAll` also ends the connections it holds. */
export function listenerOf(server: Server, dropAll?: () => void): LocalListener {
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound !== null ? bound.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropAll?.();
      }),
  };
}

/** A connection to a service on this machine. */
export function connectHere(to: Endpoint): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s =
      'path' in to ? connect({ path: to.path, allowHalfOpen: true }) : connect({ port: to.port, host: to.host, allowHalfOpen: true });
    s.once('connect', () => {
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', reject);
  });
}

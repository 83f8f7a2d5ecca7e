/**
 * A TCP port free on this machine now (bound on 127.0.0.1, then let go). The test remotes
 * share this machine's network (sshd runs in a mount namespace only) or have their own (the
 * containers), so a port free here is free there too; random picks collided under CI's load.
 */
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

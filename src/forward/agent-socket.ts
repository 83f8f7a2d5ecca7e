/**
 * `forward_agent = true`: a Unix socket on the remote, in a directory only the remote user can
 * enter, whose every connection reaches this machine's ssh-agent; remote commands get it as
 * SSH_AUTH_SOCK. Keys never leave this machine; while the session runs, the remote user (and
 * root there) can ask the agent to sign, as with `ssh -A`.
 */
import { randomBytes } from 'node:crypto';
import type { RemoteHost, RemoteListener } from '../remote/host.js';
import { MproxyError, messageOf } from '../util/errors.js';
import { connectHere } from './here.js';
import { join } from './join.js';

export interface ForwardedAgent {
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export async function forwardAgent(host: RemoteHost, localSocket: string | undefined, say?: (m: string) => void): Promise<ForwardedAgent> {
  if (localSocket === undefined || localSocket === '')
    throw new MproxyError('E_SANDBOX', 'run.forward_agent is on, but SSH_AUTH_SOCK is not set here: there is no ssh-agent to forward', {
      hint: ['start one: eval "$(ssh-agent)" && ssh-add', 'or set run.forward_agent = false'],
      pointer: '/run/forward_agent',
    });
  const listen = host.listen;
  if (listen === undefined)
    throw new MproxyError('E_NOT_IMPLEMENTED', 'this target cannot listen for forwards', { pointer: '/run/forward_agent' });
  const dir = `/tmp/mproxy-agent-${randomBytes(6).toString('hex')}`;
  const path = `${dir}/agent.sock`;
  await host.fs.call('mkdir', Buffer.from(dir), 0o700);
  let listener: RemoteListener;
  try {
    listener = await listen.call(host, { path }, (c) => {
      c.on('error', () => undefined);
      connectHere({ path: localSocket }).then(
        (agent) => void join(c, agent),
        (err: unknown) => {
          say?.(`forwarded ssh-agent: ${messageOf(err)}`);
          c.destroy();
        },
      );
    });
  } catch (err) {
    await host.fs.call('rmdir', Buffer.from(dir)).catch(() => undefined);
    throw new MproxyError('E_LISTEN', `cannot forward the ssh-agent: ${messageOf(err)}`, { pointer: '/run/forward_agent', cause: err });
  }
  say?.(`ssh-agent forwarded: SSH_AUTH_SOCK=${path} on the remote`);
  return {
    env: { SSH_AUTH_SOCK: path },
    close: async () => {
      await listener.close().catch(() => undefined);
      await host.fs.call('unlink', Buffer.from(path)).catch(() => undefined);
      await host.fs.call('rmdir', Buffer.from(dir)).catch(() => undefined);
    },
  };
}

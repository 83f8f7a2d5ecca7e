/**
 * The ssh target: a connection per the profile and ~/.ssh, then the agent tier where the remote
 * has node >= 18 (agent = "auto" or "node"), saying which was picked and why.
 */
import { join } from 'node:path';
import type { Profile } from '../../profile/schema.js';
import type { RemoteHost } from '../../remote/host.js';
import { AgentlessSshHost } from '../../remote/agentless/ssh-host.js';
import { ReconnectingHost } from '../../remote/reconnecting.js';
import { MproxyError } from '../../util/errors.js';
import { askSecret } from '../../util/prompt.js';
import { parseDuration } from '../../util/units.js';
import { deployAgent, probeRemote, quickStartScript, tryQuickStart } from '../../remote/agent/boot-scripts.js';
import { sshRunner, startAgent } from './agent-boot.js';
import { closeConnection, openSsh, type SshConnection, type SshDestination, type SshOptions } from './connection.js';

export interface SshContext {
  readonly home: string;
  readonly localUser: string;
  readonly env: NodeJS.ProcessEnv;
  readonly verbose?: (message: string) => void;
  readonly warn?: (message: string) => void;
}

export function sshOptions(profile: Profile, ctx: SshContext): SshOptions {
  const t = profile.target;
  const agentSocket = ctx.env['SSH_AUTH_SOCK'];
  return {
    home: ctx.home,
    localUser: ctx.localUser,
    ...(agentSocket !== undefined && agentSocket !== '' ? { agentSocket } : {}),
    ...(t.identity_file !== undefined ? { identityFile: t.identity_file } : {}),
    ...(t.jump !== undefined ? { jump: t.jump } : {}),
    hostKeyPolicy: t.host_key_policy,
    connectTimeoutMs: parseDuration(t.connect_timeout) ?? 10_000,
    keepaliveMs: parseDuration(t.keepalive) ?? 15_000,
    opTimeoutMs: parseDuration(t.op_timeout) ?? 20_000,
    knownHostsFiles: [join(ctx.home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'],
    sshConfigFiles: [join(ctx.home, '.ssh', 'config'), '/etc/ssh/ssh_config'],
    askPassphrase: (path) => askSecret(`Enter passphrase for key ${path}: `),
    ...(ctx.verbose !== undefined ? { verbose: ctx.verbose } : {}),
    ...(ctx.warn !== undefined ? { warn: ctx.warn } : {}),
  };
}

/** An SSH RemoteHost that reconnects (with backoff) after the link drops. */
export async function connectSsh(dest: SshDestination, profile: Profile, options: SshOptions): Promise<RemoteHost> {
  const first = await connectSshOnce(dest, profile, options);
  const description = `${dest.user !== undefined ? `${dest.user}@` : ''}${dest.host}${dest.port !== undefined ? `:${dest.port}` : ''}`;
  return new ReconnectingHost(first, () => connectSshOnce(dest, profile, options), {
    description,
    ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
  });
}

async function connectSshOnce(dest: SshDestination, profile: Profile, options: SshOptions): Promise<RemoteHost> {
  const conn = await openSsh(dest, options);
  try {
    const host = await startTier(conn, profile.target.agent, options, () => openSsh(dest, options));
    const close = host.close.bind(host);
    return Object.assign(host, {
      close: async () => {
        await close();
        closeConnection(conn);
      },
    });
  } catch (err) {
    closeConnection(conn);
    throw err;
  }
}

async function startTier(
  conn: SshConnection,
  agent: Profile['target']['agent'],
  options: SshOptions,
  connectMore: () => Promise<SshConnection>,
): Promise<RemoteHost> {
  const say = options.verbose;
  const opTimeoutMs = options.opTimeoutMs ?? 20_000;
  if (agent === 'none') {
    say?.(`ssh: tier agentless on ${conn.description} (agent = "none")`);
    return AgentlessSshHost.start(conn, connectMore, opTimeoutMs);
  }
  const agentOptions = {
    ...(options.opTimeoutMs !== undefined ? { opTimeoutMs: options.opTimeoutMs } : {}),
    ...(say !== undefined
      ? {
          onLog: (level: string, msg: string) => say(`agent ${level}: ${msg}`),
          stderr: (text: string) => say(`agent stderr: ${text.trimEnd()}`),
        }
      : {}),
  };
  // A remote that ran this agent before starts it at once; any other goes through the probe.
  const quick = await tryQuickStart(
    () => startAgent(conn.client, conn.description, quickStartScript(), { ...agentOptions, startTimeoutMs: opTimeoutMs }),
    conn.description,
    opTimeoutMs,
    say && ((m) => say(`ssh: ${m}`)),
  );
  if (quick !== undefined) return quick;
  const remote = sshRunner(conn.client, conn.description, opTimeoutMs);
  const probe = await probeRemote(remote);
  const status = probe.node;
  if (status.kind === 'no-node' || status.kind === 'old-node') {
    const why = status.kind === 'no-node' ? 'the remote has no node' : `the remote's node is ${status.version}, older than 18`;
    if (agent === 'node')
      throw new MproxyError('E_AGENT_START', `agent = "node", but ${why}`, {
        hint: 'install Node.js >= 18 on the remote, or set agent = "auto" to work without the agent',
      });
    say?.(`ssh: tier agentless on ${conn.description} (${why})`);
    return AgentlessSshHost.start(conn, connectMore, opTimeoutMs);
  }
  const start = await deployAgent(remote, probe, say && ((m) => say(`ssh: ${m}`)));
  say?.(`ssh: tier agent on ${conn.description} (node found${status.kind === 'ready' ? ', agent already cached' : ''})`);
  try {
    return await startAgent(conn.client, conn.description, start, agentOptions);
  } catch (err) {
    // An agent that will not start (or speaks another protocol) is not worth failing over under "auto".
    if (agent !== 'auto' || !(err instanceof MproxyError) || err.code !== 'E_AGENT_START') throw err;
    say?.(`ssh: tier agentless on ${conn.description} (the agent did not start: ${err.message})`);
    return AgentlessSshHost.start(conn, connectMore, opTimeoutMs);
  }
}

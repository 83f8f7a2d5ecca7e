/**
 * A validated profile's [target] to a live RemoteHost: the transport opened (local, ssh, docker
 * or compose), the tier chosen over it (remote/tier.ts), and, for ssh and docker, reconnects
 * after the link drops. Each transport is loaded when it is used (dockerode alone takes ~110 ms
 * to load).
 */
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { settingsOf } from '../profile/runtime.js';
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';
import { ReconnectingHost } from '../remote/reconnecting.js';
import { openHost, openLocalAgent, type AgentMode } from '../remote/tier.js';
import type { DockerContext, DockerTarget } from '../transport/docker/index.js';
import type { SshDestination, SshOptions } from '../transport/ssh/index.js';
import { MproxyError } from '../util/errors.js';
import { askSecret } from '../util/prompt.js';
import { parseTargetUri, type Target } from '../util/target-uri.js';

export interface ConnectOptions {
  readonly home: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly verbose?: (message: string) => void;
  /** Said whatever the verbosity (a host key recorded under accept-new). */
  readonly warn?: (message: string) => void;
  /**
   * Only one command will run (`exec`): under agent = "auto" the agentless tier serves it, with
   * no agent to start and no probe (SSH and Docker: one session or `docker exec` in all).
   */
  readonly oneCommand?: boolean;
}

const ONE_COMMAND = 'one command to run: no agent needed';

/** The tier asked for, and why agentless when the profile did not say so. */
export type AgentChoice = AgentMode | { readonly agent: AgentMode; readonly agentlessWhy?: string; readonly oneCommand?: boolean };

const tierOf = (choice: AgentChoice): { agent: AgentMode; agentlessWhy?: string; oneCommand?: boolean } =>
  typeof choice === 'string' ? { agent: choice } : choice;

/** The tier to ask for: the profile's, but agentless for one command where the profile leaves it open. */
function agentFor(profile: Profile, options: ConnectOptions): AgentChoice {
  if (options.oneCommand !== true) return profile.target.agent;
  return profile.target.agent === 'auto'
    ? { agent: 'none', agentlessWhy: ONE_COMMAND, oneCommand: true }
    : { agent: profile.target.agent, oneCommand: true };
}

export function targetOf(profile: Profile): Target {
  const parsed = parseTargetUri(profile.target.uri);
  // The profile was validated, so the URI parses; this guards against a caller that skipped it.
  if (!parsed.ok) throw new MproxyError('E_PROFILE_INVALID', `target.uri: ${parsed.reason}`);
  return parsed.value;
}

export function sshOptions(profile: Profile, options: ConnectOptions): SshOptions {
  const t = profile.target;
  const settings = settingsOf(profile);
  const agentSocket = options.env['SSH_AUTH_SOCK'];
  return {
    home: options.home,
    localUser: userInfo().username,
    ...(agentSocket !== undefined && agentSocket !== '' ? { agentSocket } : {}),
    ...(t.identity_file !== undefined ? { identityFile: t.identity_file } : {}),
    ...(t.jump !== undefined ? { jump: t.jump } : {}),
    hostKeyPolicy: t.host_key_policy,
    connectTimeoutMs: settings.connectTimeoutMs,
    keepaliveMs: settings.keepaliveMs,
    opTimeoutMs: settings.opTimeoutMs,
    knownHostsFiles: [join(options.home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'],
    sshConfigFiles: [join(options.home, '.ssh', 'config'), '/etc/ssh/ssh_config'],
    askPassphrase: (path) => askSecret(`Enter passphrase for key ${path}: `),
    ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
    ...(options.warn !== undefined ? { warn: options.warn } : {}),
  };
}

/** An SSH RemoteHost of the tier `agent` allows, reconnecting (with backoff) after the link drops. */
export async function connectSsh(dest: SshDestination, agent: AgentChoice, options: SshOptions): Promise<RemoteHost> {
  // The TCP connection is on its way while ssh2 loads (early-dial.ts says why).
  const { dialEarly } = await import('../transport/ssh/early-dial.js');
  let early = dialEarly(dest, options);
  const { openSshTransport, describeDestination } = await import('../transport/ssh/index.js');
  const tier = {
    ...tierOf(agent),
    opTimeoutMs: options.opTimeoutMs,
    ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
  };
  const once = async (): Promise<RemoteHost> => {
    const first = early;
    early = undefined;
    return openHost(await openSshTransport(dest, options, first), tier);
  };
  return new ReconnectingHost(await once(), once, {
    description: describeDestination(dest),
    ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
  });
}

/**
 * A docker or compose RemoteHost that reconnects after the link drops (the daemon restarted:
 * with live-restore its containers run on). A container that is gone or stopped is not retried.
 */
export async function connectDocker(
  target: DockerTarget,
  agent: AgentChoice,
  ctx: DockerContext & { readonly verbose?: (message: string) => void },
): Promise<RemoteHost> {
  const { openDockerTransport, describeDockerTarget, dockerPermanent } = await import('../transport/docker/index.js');
  const tier = { ...tierOf(agent), opTimeoutMs: ctx.opTimeoutMs, ...(ctx.verbose !== undefined ? { verbose: ctx.verbose } : {}) };
  const once = async (): Promise<RemoteHost> => openHost(await openDockerTransport(target, ctx), tier);
  return new ReconnectingHost(await once(), once, {
    description: describeDockerTarget(target),
    permanent: dockerPermanent,
    ...(ctx.verbose !== undefined ? { verbose: ctx.verbose } : {}),
  });
}

/** The agent as a child process of mproxy on this machine. */
export async function connectLocal(
  options: { readonly opTimeoutMs?: number; readonly verbose?: (message: string) => void } = {},
): Promise<RemoteHost> {
  const { LocalTransport } = await import('../transport/local.js');
  const opTimeoutMs = options.opTimeoutMs ?? 20_000;
  options.verbose?.('target local: starting the agent as a child process');
  return openLocalAgent(new LocalTransport(opTimeoutMs), {
    opTimeoutMs,
    ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
  });
}

export async function connect(profile: Profile, options: ConnectOptions): Promise<RemoteHost> {
  const target = targetOf(profile);
  const { opTimeoutMs } = settingsOf(profile);
  const verbose = options.verbose !== undefined ? { verbose: options.verbose } : {};
  switch (target.kind) {
    case 'local':
      return connectLocal({ opTimeoutMs, ...verbose });
    case 'ssh':
      return connectSsh(target, agentFor(profile, options), sshOptions(profile, options));
    case 'docker':
    case 'compose': {
      const dockerHost = profile.target.docker_host;
      return connectDocker(target, agentFor(profile, options), {
        env: options.env,
        cwd: options.cwd,
        opTimeoutMs,
        ...(dockerHost !== undefined ? { dockerHost } : {}),
        ...verbose,
      });
    }
  }
}

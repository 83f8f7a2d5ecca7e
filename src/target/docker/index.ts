/**
 * docker:// and compose:// targets: the daemon from `docker_host` or DOCKER_HOST, the container
 * by name/ID or by compose labels, then the agent started with `docker exec` (uploaded once per
 * container to ~/.cache/mproxy by content). Failures say which: daemon unreachable, no such
 * container, container stopped, several replicas.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import Dockerode from 'dockerode';
import type { Target } from '../../profile/target-uri.js';
import type { Profile } from '../../profile/schema.js';
import { deployAgent, probeRemote, quickStartScript, tryQuickStart } from '../../remote/agent/boot-scripts.js';
import { AgentClient } from '../../remote/agent/client.js';
import type { RemoteHost } from '../../remote/host.js';
import { MproxyError, messageOf } from '../../util/errors.js';
import { parseDuration } from '../../util/units.js';
import { ReconnectingHost } from '../../remote/reconnecting.js';
import { DockerAgentlessHost } from './agentless.js';
import { dockerExec, runDockerScript } from './exec-stream.js';
import { composeProjectName } from './compose-project.js';

export interface DockerContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly verbose?: (message: string) => void;
}

export function dockerClient(dockerHost: string | undefined, env: NodeJS.ProcessEnv): { docker: Dockerode; address: string } {
  const address = dockerHost ?? env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
  const tcp = /^tcp:\/\/([^:/]+)(?::(\d+))?/.exec(address);
  if (tcp !== null) return { docker: new Dockerode({ host: tcp[1] ?? 'localhost', ...tcpSecurity(Number(tcp[2] ?? 2375), env) }), address };
  return { docker: new Dockerode({ socketPath: address.replace(/^unix:\/\//, '') }), address };
}

/**
 * TLS for a tcp:// daemon as the docker CLI decides it: DOCKER_TLS_VERIFY (or port 2376) means
 * https, checked against DOCKER_CERT_PATH's ca.pem with its cert.pem and key.pem (default
 * ~/.docker), as `docker --tlsverify` does.
 */
function tcpSecurity(
  port: number,
  env: NodeJS.ProcessEnv,
): { port: number; protocol: 'http' | 'https'; ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const verify = (env['DOCKER_TLS_VERIFY'] ?? '') !== '' || port === 2376;
  if (!verify) return { port, protocol: 'http' };
  const dir = env['DOCKER_CERT_PATH'] ?? join(env['HOME'] ?? homedir(), '.docker');
  try {
    return {
      port,
      protocol: 'https',
      ca: readFileSync(join(dir, 'ca.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
      key: readFileSync(join(dir, 'key.pem')),
    };
  } catch (err) {
    throw new MproxyError('E_DOCKER', `DOCKER_TLS_VERIFY is set, but the TLS files are not in ${dir}: ${messageOf(err)}`, {
      hint: 'set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem (as for docker --tlsverify)',
      cause: err,
    });
  }
}

async function findContainer(
  docker: Dockerode,
  address: string,
  target: Extract<Target, { kind: 'docker' | 'compose' }>,
  ctx: DockerContext,
): Promise<{ id: string; name: string }> {
  try {
    await docker.ping();
  } catch (err) {
    throw new MproxyError('E_DOCKER', `cannot reach the Docker daemon at ${address}`, {
      hint: ['is dockerd running, and may you use its socket?', 'set target.docker_host or DOCKER_HOST to the right daemon'],
      cause: err,
    });
  }
  if (target.kind === 'docker') return { id: target.container, name: target.container };
  const project = target.project ?? composeProjectName(ctx.cwd, ctx.env);
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${target.service}`] },
  });
  const pick =
    target.index === undefined ? list : list.filter((c) => c.Labels['com.docker.compose.container-number'] === String(target.index));
  const first = pick[0];
  if (first === undefined) {
    throw new MproxyError(
      'E_DOCKER',
      `no container of service \`${target.service}\` in compose project ` +
        `\`${project}\`${target.index !== undefined ? ` with number ${target.index}` : ''}`,
      {
        hint: [
          'is the project up? (docker compose up -d)',
          target.project === undefined
            ? `the project name was taken from ${basename(ctx.cwd)}/ (COMPOSE_PROJECT_NAME or the compose file's name: override it)`
            : 'check the project and service names',
        ],
      },
    );
  }
  if (pick.length > 1) {
    const numbers = pick.map((c) => c.Labels['com.docker.compose.container-number']).join(', ');
    throw new MproxyError('E_DOCKER', `service \`${target.service}\` has ${pick.length} containers (${numbers})`, {
      hint: `pick one: compose://${project}/${target.service}/N`,
    });
  }
  return { id: first.Id, name: (first.Names[0] ?? first.Id).replace(/^\//, '') };
}

/**
 * A docker or compose target that reconnects after the link drops (the daemon restarted: with
 * live-restore its containers run on). A container that is gone or stopped is not retried.
 */
export async function connectDocker(
  target: Extract<Target, { kind: 'docker' | 'compose' }>,
  profile: Profile,
  ctx: DockerContext,
): Promise<RemoteHost> {
  const first = await connectDockerOnce(target, profile, ctx);
  const description = target.kind === 'docker' ? `container ${target.container}` : `service ${target.service}`;
  const permanent = (err: unknown): boolean =>
    err instanceof MproxyError && err.code === 'E_DOCKER' && /not running|no such container|no container of service/.test(err.message);
  return new ReconnectingHost(first, () => connectDockerOnce(target, profile, ctx), {
    description,
    permanent,
    ...(ctx.verbose !== undefined ? { verbose: ctx.verbose } : {}),
  });
}

async function connectDockerOnce(
  target: Extract<Target, { kind: 'docker' | 'compose' }>,
  profile: Profile,
  ctx: DockerContext,
): Promise<RemoteHost> {
  const { docker, address } = dockerClient(profile.target.docker_host, ctx.env);
  const found = await findContainer(docker, address, target, ctx);
  const container = docker.getContainer(found.id);
  let state: Dockerode.ContainerInspectInfo;
  try {
    state = await container.inspect();
  } catch (err) {
    throw new MproxyError('E_DOCKER', `no such container: ${found.name}`, {
      hint: 'docker ps -a lists the containers; use the name or ID shown there',
      cause: err,
    });
  }
  const description = `container ${state.Name.replace(/^\//, '')}`;
  if (!state.State.Running)
    throw new MproxyError('E_DOCKER', `${description} is not running (${state.State.Status})`, {
      hint: `start it: docker start ${state.Name.replace(/^\//, '')}`,
    });
  const say = ctx.verbose;
  const opTimeoutMs = parseDuration(profile.target.op_timeout) ?? 20_000;
  if (profile.target.agent === 'none') {
    say?.(`docker: tier agentless in ${description} (agent = "none")`);
    return DockerAgentlessHost.start(docker, container, description, opTimeoutMs);
  }

  // A container that ran this agent before starts it at once; any other goes through the probe.
  const quick = await tryQuickStart(
    () => startDockerAgent(docker, container, description, quickStartScript(), opTimeoutMs, ctx.verbose),
    description,
    opTimeoutMs,
    say && ((m) => say(`docker: ${m}`)),
  );
  if (quick !== undefined) return quick;
  const remote = {
    description,
    run: async (script: string, input?: Buffer) => {
      const r = await runDockerScript(docker, container, script, description, opTimeoutMs, input);
      return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    },
  };
  const probe = await probeRemote(remote);
  const status = probe.node;
  if (status.kind === 'no-node' || status.kind === 'old-node') {
    const why = status.kind === 'no-node' ? `${description} has no node` : `${description} has node ${status.version}, older than 18`;
    if (profile.target.agent === 'node')
      throw new MproxyError('E_AGENT_START', `agent = "node", but ${why}`, {
        hint: 'use an image with node >= 18, or set agent = "auto" to work without the agent',
      });
    say?.(`docker: tier agentless (${why})`);
    return DockerAgentlessHost.start(docker, container, description, opTimeoutMs);
  }
  const start = await deployAgent(remote, probe, say && ((m) => say(`docker: ${m}`)));
  ctx.verbose?.(`docker: tier agent in ${description}`);
  try {
    return await startDockerAgent(docker, container, description, start, opTimeoutMs, ctx.verbose);
  } catch (err) {
    // An agent that will not start (or speaks another protocol) is not worth failing over under "auto".
    if (profile.target.agent !== 'auto' || !(err instanceof MproxyError) || err.code !== 'E_AGENT_START') throw err;
    say?.(`docker: tier agentless in ${description} (the agent did not start: ${err.message})`);
    return DockerAgentlessHost.start(docker, container, description, opTimeoutMs);
  }
}

/** The agent started by `script` in a `docker exec`, spoken to over its stdio. */
async function startDockerAgent(
  docker: Dockerode,
  container: Dockerode.Container,
  description: string,
  script: string,
  opTimeoutMs: number,
  verbose?: (m: string) => void,
): Promise<RemoteHost> {
  const agent = await dockerExec(docker, container, ['/bin/sh', '-c', script], description);
  agent.stderr.on('data', (d: Buffer) => verbose?.(`agent stderr: ${d.toString().trimEnd()}`));
  return AgentClient.connect(
    {
      input: agent.stdout,
      output: agent.stdin,
      description,
      close: async () => {
        agent.stdin.end();
        await Promise.race([agent.exitCode, new Promise((r) => setTimeout(r, 2000).unref())]);
        agent.stdin.destroy();
      },
    },
    { opTimeoutMs, startTimeoutMs: opTimeoutMs },
  );
}

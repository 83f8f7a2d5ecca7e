/**
 * docker:// and compose:// targets: the daemon from `docker_host` or DOCKER_HOST, the container
 * by name/ID or by compose labels, made into a DockerTransport. Failures say which: daemon
 * unreachable, no such container, container stopped, several replicas.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type Dockerode from 'dockerode';
import type { Target } from '../../util/target-uri.js';
import { MproxyError, messageOf } from '../../util/errors.js';
import { DockerClient } from './client.js';
import { composeProjectName } from './compose-project.js';
import { DockerTransport } from './transport.js';

export type DockerTarget = Extract<Target, { kind: 'docker' | 'compose' }>;

export interface DockerContext {
  /** target.docker_host; else DOCKER_HOST from `env`; else the default socket. */
  readonly dockerHost?: string;
  readonly env: NodeJS.ProcessEnv;
  /** Where a compose project's default name comes from. */
  readonly cwd: string;
  /** target.op_timeout: the deadline of each script. */
  readonly opTimeoutMs: number;
}

export function dockerClient(dockerHost: string | undefined, env: NodeJS.ProcessEnv): { docker: DockerClient; address: string } {
  const address = dockerHost ?? env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
  const tcp = /^tcp:\/\/([^:/]+)(?::(\d+))?/.exec(address);
  if (tcp !== null)
    return { docker: new DockerClient({ host: tcp[1] ?? 'localhost', ...tcpSecurity(Number(tcp[2] ?? 2375), env) }), address };
  return { docker: new DockerClient({ socketPath: address.replace(/^unix:\/\//, '') }), address };
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
  docker: DockerClient,
  address: string,
  target: DockerTarget,
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

/** Words for the target in messages before its container is found. */
export function describeDockerTarget(target: DockerTarget): string {
  return target.kind === 'docker' ? `container ${target.container}` : `service ${target.service}`;
}

/** Failures that another try will not mend: the container is gone or stopped. */
export function dockerPermanent(err: unknown): boolean {
  return err instanceof MproxyError && err.code === 'E_DOCKER' && /not running|no such container|no container of service/.test(err.message);
}

/** The running container the target names, as a transport. */
export async function openDockerTransport(target: DockerTarget, ctx: DockerContext): Promise<DockerTransport> {
  const { docker, address } = dockerClient(ctx.dockerHost, ctx.env);
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
  const name = state.Name.replace(/^\//, '');
  if (!state.State.Running)
    throw new MproxyError('E_DOCKER', `container ${name} is not running (${state.State.Status})`, {
      hint: `start it: docker start ${name}`,
    });
  return new DockerTransport(docker, container, `container ${name}`, ctx.opTimeoutMs);
}

/** A validated profile's [target] to a live RemoteHost: local, ssh, docker or compose. */
import { parseTargetUri, type Target } from '../profile/target-uri.js';
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';
import { parseDuration } from '../util/units.js';
import { userInfo } from 'node:os';
import { MproxyError } from '../util/errors.js';

export interface ConnectOptions {
  readonly home: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly verbose?: (message: string) => void;
  /** Said whatever the verbosity (a host key recorded under accept-new). */
  readonly warn?: (message: string) => void;
}

export function targetOf(profile: Profile): Target {
  const parsed = parseTargetUri(profile.target.uri);
  // The profile was validated, so the URI parses; this guards against a caller that skipped it.
  if (!parsed.ok) throw new MproxyError('E_PROFILE_INVALID', `target.uri: ${parsed.reason}`);
  return parsed.value;
}

export async function connect(profile: Profile, options: ConnectOptions): Promise<RemoteHost> {
  const target = targetOf(profile);
  switch (target.kind) {
    // Each transport is loaded when it is used (dockerode alone takes ~110 ms to load).
    case 'local': {
      options.verbose?.('target local: starting the agent as a child process');
      const { connectLocal } = await import('../target/local.js');
      return connectLocal({
        onLog: (level, msg) => options.verbose?.(`agent ${level}: ${msg}`),
        opTimeoutMs: parseDuration(profile.target.op_timeout) ?? 20_000,
      });
    }
    case 'ssh': {
      const { connectSsh, sshOptions } = await import('../target/ssh/index.js');
      const ctx = {
        home: options.home,
        localUser: userInfo().username,
        env: options.env,
        ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
        ...(options.warn !== undefined ? { warn: options.warn } : {}),
      };
      return connectSsh(target, profile, sshOptions(profile, ctx));
    }
    case 'docker':
    case 'compose': {
      const { connectDocker } = await import('../target/docker/index.js');
      return connectDocker(target, profile, {
        env: options.env,
        cwd: options.cwd,
        ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
      });
    }
  }
}

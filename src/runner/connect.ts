/** A validated profile's [target] to a live RemoteHost. */
import { parseTargetUri, type Target } from '../profile/target-uri.js';
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';
import { connectLocal } from '../target/local.js';
import { MproxyError } from '../util/errors.js';

export interface ConnectOptions {
  readonly verbose?: (message: string) => void;
}

export function targetOf(profile: Profile): Target {
  const parsed = parseTargetUri(profile.target.uri);
  // The profile was validated, so the URI parses; this guards against a caller that skipped it.
  if (!parsed.ok) throw new MproxyError('E_PROFILE_INVALID', `target.uri: ${parsed.reason}`);
  return parsed.value;
}

export async function connect(profile: Profile, options: ConnectOptions = {}): Promise<RemoteHost> {
  const target = targetOf(profile);
  switch (target.kind) {
    case 'local':
      options.verbose?.('target local: starting the agent as a child process');
      return connectLocal({ onLog: (level, msg) => options.verbose?.(`agent ${level}: ${msg}`) });
    default:
      throw new MproxyError('E_NOT_IMPLEMENTED', `${target.kind} targets are not available in this build yet`, { hint: 'this build reaches the `local` target only' });
  }
}

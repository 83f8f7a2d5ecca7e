/**
 * What `up` forwards for its whole run: the profile's [[forwards]], the ssh-agent when
 * run.forward_agent asks, and (run.auto_forward) listeners remote commands open. Together they
 * give remote commands extra variables (HTTP_PROXY for the built-in proxy, SSH_AUTH_SOCK).
 */
import { forwardAgent } from '../forward/agent-socket.js';
import { autoForward } from '../forward/auto.js';
import { startForwards } from '../forward/forwards.js';
import { settingsOf } from '../profile/runtime.js';
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';

export interface SessionForwards {
  readonly env: Readonly<Record<string, string>>;
  /** What was forwarded, in words for the step's title. */
  readonly summary: string;
  close(): Promise<void>;
}

export async function startSessionForwards(
  host: RemoteHost,
  profile: Profile,
  localEnv: NodeJS.ProcessEnv,
  say: { readonly announce: (line: string) => void; readonly verbose?: (m: string) => void },
): Promise<SessionForwards> {
  const verbose = say.verbose !== undefined ? { verbose: say.verbose } : {};
  const specs = settingsOf(profile).forwards;
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const forwards = await startForwards(host, specs, { ...verbose, ...(say.verbose !== undefined ? { started: say.verbose } : {}) });
    closers.push(() => forwards.close());
    let env = { ...forwards.env };
    if (profile.run.forward_agent) {
      const agent = await forwardAgent(host, localEnv['SSH_AUTH_SOCK'], say.verbose);
      closers.push(() => agent.close());
      env = { ...env, ...agent.env };
    }
    if (profile.run.auto_forward) {
      // Ports the forwards themselves listen on (there, or here where the remote shares this network) are not a program's.
      const ignore = new Set(
        specs.flatMap((f) => {
          const listens = f.direction === 'to-local' ? f.remote : (f.local ?? f.remote);
          return 'port' in listens ? [listens.port] : [];
        }),
      );
      const auto = await autoForward(host, say.announce, { ignore, ...verbose });
      closers.push(() => auto.close());
    }
    const parts = [
      ...(specs.length > 0 ? [`${specs.length} port${specs.length === 1 ? '' : 's'}`] : []),
      ...(profile.run.forward_agent ? ['the ssh-agent'] : []),
    ];
    const auto = profile.run.auto_forward ? ' (new remote listeners are forwarded as they open)' : '';
    return { env, summary: `${parts.length > 0 ? `Forwarded ${parts.join(' and ')}` : 'Nothing to forward'}${auto}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}

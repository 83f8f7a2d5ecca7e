/**
 * `mproxy forward`: connect, start every [[forwards]] entry, and hold them until Ctrl-C,
 * SIGTERM or SIGHUP; then close them and the connection. Ctrl-C while connecting undoes what was
 * done. The command prints what happened (events).
 */
import { startForwards } from '../forward/forwards.js';
import { settingsOf } from '../profile/runtime.js';
import type { Profile } from '../profile/schema.js';
import { MproxyError } from '../util/errors.js';
import { inForeground, type ForegroundOptions } from './foreground.js';

export interface ForwardRunEvents {
  /** One forward is up. */
  started(what: string): void;
  /** All are up. */
  ready(): void;
}

export async function runForward(profile: Profile, options: ForegroundOptions, events: ForwardRunEvents): Promise<number> {
  const specs = settingsOf(profile).forwards;
  if (specs.length === 0)
    throw new MproxyError('E_USAGE', 'the profile has no [[forwards]]', { hint: '[[forwards]]\nlocal = 18080\nremote = 8080' });
  return inForeground(profile, options, async ({ host, stop, teardown }) => {
    const starting = teardown.addPending(
      startForwards(host, specs, { started: events.started, ...(options.verbose !== undefined ? { verbose: options.verbose } : {}) }),
      (f) => f.close(),
    );
    await Promise.race([starting, stop]);
    events.ready();
    await stop.catch(() => undefined);
    options.verbose?.('stopping: closing the forwards');
    return 0;
  });
}

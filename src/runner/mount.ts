/**
 * `mproxy mount`: connect, serve every [[mounts]] entry at its local path until stopped, and
 * undo it all. Ctrl-C while connecting or mounting undoes what was done; once mounted it
 * unmounts; while unmounting it is held (Teardown). The command prints what happened (events).
 */
import type { Profile } from '../profile/schema.js';
import { MproxyError } from '../util/errors.js';
import { mountsOn, settingsOf } from '../profile/runtime.js';
import { inForeground, type ForegroundOptions } from './foreground.js';

export interface MountEvents {
  /** Every mount is served: each remote directory and where it is. */
  mounted(points: readonly { readonly remote: string; readonly local: string }[]): void;
}

/** How the session ended: stopped by a signal, or a mount unmounted from outside (its path). */
export type MountEnd = { readonly kind: 'stopped' } | { readonly kind: 'unmounted-outside'; readonly point: string };

export async function runMount(
  profile: Profile,
  options: ForegroundOptions & { readonly warn: (message: string) => void },
  events: MountEvents,
): Promise<MountEnd> {
  const { mountAll } = await import('../mount/mount.js');
  const settings = settingsOf(profile);
  return inForeground(profile, options, async ({ host, stop, teardown }) => {
    let lost: (point: string) => void = () => undefined;
    const unmountedOutside = new Promise<string>((resolve) => (lost = resolve));
    const specs = mountsOn(settings, host.info().home);
    if (specs.length === 0) throw new MproxyError('E_USAGE', 'the profile has no [[mounts]]');
    const mounting = mountAll(host, specs, {
      onLost: (point) => lost(point),
      opTimeoutMs: settings.opTimeoutMs,
      warn: options.warn,
      ...(options.verbose !== undefined ? { verbose: options.verbose } : {}),
    });
    const mounted = await Promise.race([teardown.addPending(mounting, (m) => m.unmount()), stop]);
    events.mounted(mounted.points.map((local, i) => ({ remote: specs[i]?.remote ?? '', local })));
    const outside = await Promise.race([unmountedOutside, stop.catch(() => undefined)]);
    if (outside === undefined) {
      options.verbose?.('stopping: unmounting');
      return { kind: 'stopped' };
    }
    return { kind: 'unmounted-outside', point: outside };
  });
}

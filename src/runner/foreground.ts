/**
 * The life of a foreground command (mount, forward, mcp): connect, with Ctrl-C while connecting
 * undoing what was done; run the command's work with the host, the stop signal (Ctrl-C,
 * SIGTERM, SIGHUP) and the teardown it pushes its own undo onto; undo everything at the end,
 * however it ends. Asked to, it serves the connection as the profile's live session meanwhile.
 */
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';
import { connect, type ConnectOptions } from './connect.js';
import { serveLiveSession, type LiveOptions } from './live-session.js';
import { interruption, Teardown } from './startup.js';

export interface Foreground {
  readonly host: RemoteHost;
  /** Rejects when a stop signal comes. */
  readonly stop: Promise<never>;
  readonly teardown: Teardown;
}

export interface ForegroundOptions extends ConnectOptions {
  /** Serve the connection as the profile's live session too. */
  readonly live?: LiveOptions | undefined;
}

export async function inForeground<T>(profile: Profile, options: ForegroundOptions, work: (f: Foreground) => Promise<T>): Promise<T> {
  const stop = interruption();
  const teardown = new Teardown();
  try {
    const host = await Promise.race([teardown.addPending(connect(profile, options), (h) => h.close()), stop.promise]);
    if (options.live !== undefined) {
      const live = await serveLiveSession(host, profile, options.live, options.verbose);
      teardown.add(() => live?.close());
    }
    return await work({ host, stop: stop.promise, teardown });
  } finally {
    await teardown.run();
    stop.done();
  }
}

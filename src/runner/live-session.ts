/**
 * A live session: while `up`, `mount` or `forward` holds a connection to the target, `mproxy
 * exec` of the same profile file runs its command over that connection — no Node to start, no
 * connect, no agent — as OpenSSH's ControlMaster serves `ssh` to the same host. The client is
 * the bin's native helper (native/client/); it falls back to a cold `exec` when nobody listens.
 * The socket sits in a directory only this user can enter (util/live-socket.ts); the profile
 * the session loaded at its start is the one that applies.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';
import type { LiveSocket } from '../util/live-socket.js';
import { LiveExec, type Failure, type Served } from './live-exec.js';

export interface LiveOptions {
  readonly socket: LiveSocket;
  /** What the client prints and exits with when its command could not run (the CLI's wording). */
  readonly describe: (err: unknown) => Failure;
}

export interface LiveSession {
  close(): void;
}

/** Does a session answer at `path`? A socket file nobody listens on is one a dead session left. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    const done = (live: boolean): void => {
      probe.destroy();
      resolve(live);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(1000, () => done(false));
  });
}

function inode(path: string): number | undefined {
  try {
    return lstatSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Serves the live session of `profile` until close(). Undefined when another mproxy already
 * serves it (that one keeps serving; verbose says so).
 */
export async function serveLiveSession(
  host: RemoteHost,
  profile: Profile,
  options: LiveOptions,
  verbose?: (message: string) => void,
): Promise<LiveSession | undefined> {
  const { path } = options.socket;
  if (inode(path) !== undefined) {
    if (await answers(path)) {
      verbose?.(`live session: another mproxy serves ${options.socket.profile} at ${path}; this one does not`);
      return undefined;
    }
    unlinkSync(path);
  }
  const running = new Set<LiveExec>();
  const served: Served = { host, profile, options, verbose };
  const server: Server = createServer((conn: Socket) => {
    const exec = new LiveExec(conn, served, () => running.delete(exec));
    running.add(exec);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const ours = inode(path);
  verbose?.(`live session: \`mproxy exec\` of ${options.socket.profile} runs through this connection (${path})`);
  return {
    close() {
      server.close();
      for (const exec of running) exec.abandon();
      // Only our own socket: another session may have taken the name since.
      if (ours !== undefined && inode(path) === ours) unlinkSync(path);
    },
  };
}

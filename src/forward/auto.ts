/**
 * Auto-forward (`[run] auto_forward`): while `up` runs, the remote's listening TCP sockets are
 * read from /proc/net/tcp{,6} every POLL_MS; one the remote user opened since the session
 * started (a dev server a remote command started) is forwarded from the same port here, or the
 * next free one, and announced once. When it stops listening, the local port is let go.
 */
import type { RemoteHost } from '../remote/host.js';
import { messageOf } from '../util/errors.js';
import type { LocalListener } from './here.js';
import { cannotForward } from './forwards.js';
import { listenHere } from './here.js';
import { join } from './join.js';

const POLL_MS = 1500;
/** Ports tried above a taken one before giving up on forwarding it. */
const TRIES = 20;
const LISTEN = '0A';

interface Listening {
  readonly port: number;
  /** Where to reach it on the remote: its own address, or the loopback for a wildcard one. */
  readonly host: string;
}

/** LISTEN sockets of `uid` (all users' when unknown) in /proc/net/tcp and tcp6 text. */
export function parseListening(text: string, uid: number | undefined): Listening[] {
  const found = new Map<number, Listening>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[3] !== LISTEN || !/^[0-9A-F]+:[0-9A-F]{4}$/.test(f[1] ?? '')) continue;
    if (uid !== undefined && Number(f[7]) !== uid) continue;
    const [addr = '', portHex = ''] = (f[1] ?? '').split(':');
    const port = Number.parseInt(portHex, 16);
    const v6 = addr.length === 32;
    const wildcard = /^0+$/.test(addr);
    const loopback6 = addr === '00000000000000000000000001000000';
    const loopback4 = !v6 && addr.endsWith('7F');
    if (!wildcard && !loopback4 && !loopback6) continue; // bound to one interface: not what a browser here would use
    if (!found.has(port)) found.set(port, { port, host: loopback6 ? '::1' : '127.0.0.1' });
  }
  return [...found.values()];
}

async function listening(host: RemoteHost): Promise<Listening[]> {
  const p = host.exec({ argv: ['cat', '/proc/net/tcp', '/proc/net/tcp6'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
  p.stdin.end();
  p.stderr.resume();
  const out: Buffer[] = [];
  p.stdout.on('data', (d: Buffer) => out.push(d));
  await p.exited;
  return parseListening(Buffer.concat(out).toString('latin1'), host.info().uid);
}

export interface AutoForward {
  close(): Promise<void>;
}

export async function autoForward(
  host: RemoteHost,
  announce: (line: string) => void,
  options: { readonly ignore?: ReadonlySet<number>; readonly verbose?: (m: string) => void } = {},
): Promise<AutoForward> {
  const connect = host.connect;
  if (connect === undefined || cannotForward(host) !== undefined || host.info().platform !== 'linux') {
    options.verbose?.('auto-forward: off (this target cannot forward, or is not Linux)');
    return { close: async () => undefined };
  }
  const baseline = new Set((await listening(host).catch(() => [])).map((l) => l.port));
  const active = new Map<number, LocalListener>();
  // Ports this process listens on for the forwards: where the remote shares this machine's
  // network (the local target), they show up in its table too and are not a program's.
  const ours = new Set<number>();
  let stopped = false;
  const start = async (l: Listening): Promise<void> => {
    for (let port = l.port; port < l.port + TRIES && port <= 65_535; port++) {
      try {
        const here = await listenHere({ host: '127.0.0.1', port }, (s) => {
          s.on('error', () => undefined);
          connect.call(host, { host: l.host, port: l.port }).then(
            (r) => void join(s, r),
            () => s.destroy(),
          );
        });
        active.set(l.port, here);
        ours.add(port);
        announce(`forwarded :${l.port} → http://127.0.0.1:${port}`);
        return;
      } catch {
        // Taken here: the next one.
      }
    }
    options.verbose?.(`auto-forward: no free port here for remote :${l.port}`);
  };
  const poll = async (): Promise<void> => {
    const now = await listening(host);
    const ports = new Set(now.map((l) => l.port));
    const wanted = (l: Listening): boolean =>
      !baseline.has(l.port) && !active.has(l.port) && !ours.has(l.port) && options.ignore?.has(l.port) !== true;
    for (const l of now) if (wanted(l)) await start(l);
    for (const [port, here] of active)
      if (!ports.has(port)) {
        active.delete(port);
        ours.delete(here.port);
        await here.close();
      }
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = (): void => {
    timer = setTimeout(() => {
      poll().then(
        () => !stopped && loop(),
        (err: unknown) => {
          options.verbose?.(`auto-forward: ${messageOf(err)}`);
          if (!stopped) loop();
        },
      );
    }, POLL_MS);
    timer.unref();
  };
  loop();
  return {
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      for (const here of active.values()) await here.close();
      active.clear();
    },
  };
}

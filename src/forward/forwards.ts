/**
 * A profile's [[forwards]], live: to-remote ones listen here and open a connection on the
 * remote for each one accepted; to-local ones listen on the remote and reach a service here (or
 * the built-in proxy). Remote listeners live on one link: a keepalive notices a reconnect and
 * makes them again. A place already taken fails the start with the profile key it came from;
 * a failure part-way undoes what was started.
 */
import type { Duplex } from 'node:stream';
import type { ForwardSetting } from '../profile/runtime.js';
import type { RemoteHost, RemoteListener } from '../remote/host.js';
import { type Endpoint, endpointText } from '../util/endpoint.js';
import { isMproxyError, MproxyError, messageOf } from '../util/errors.js';
import { connectHere, listenHere } from './here.js';
import { startHttpProxy } from './http-proxy.js';
import { join } from './join.js';

export interface ForwardEvents {
  /** Each forward once it is up, in words: `127.0.0.1:18080 → remote 127.0.0.1:8080`. */
  started?(what: string): void;
  verbose?(message: string): void;
}

export interface Forwards {
  /** What remote commands need for these forwards: HTTP(S)_PROXY for the built-in proxy. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** How often a link with remote listeners is checked (and, if it dropped, reconnected). */
const KEEPALIVE_MS = 3000;

function proxyEnv(port: number): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  const none = 'localhost,127.0.0.1,::1';
  return { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, NO_PROXY: none, no_proxy: none };
}

/** What a client may send before its other end is open: beyond it, the client waits. */
const EARLY_LIMIT = 1 << 20;

/**
 * Joins a connection accepted on one side to a new one on the other; a failed open drops the
 * accepted one. What the client sends while the other end opens is read at once and written
 * the moment it is open (the first bytes then leave in the same turn as the open's answer).
 */
function bridge(accepted: Duplex, open: () => Promise<Duplex>, say: ForwardEvents['verbose'], what: string): void {
  accepted.on('error', () => undefined);
  const early: Buffer[] = [];
  let held = 0;
  const take = (d: Buffer): void => {
    early.push(d);
    held += d.length;
    if (held >= EARLY_LIMIT) accepted.pause();
  };
  accepted.on('data', take);
  open().then(
    (other) => {
      // No data event can come between these lines: pipe's own listener takes over from here.
      accepted.off('data', take);
      for (const d of early) other.write(d);
      void join(accepted, other);
      accepted.resume();
    },
    (err: unknown) => {
      say?.(`${what}: ${messageOf(err)}`);
      accepted.destroy();
    },
  );
}

class RemoteEnd {
  private listener: RemoteListener | undefined;
  private generation: number | undefined;

  constructor(
    private readonly host: RemoteHost,
    private readonly spec: ForwardSetting,
    private readonly local: Endpoint,
    private readonly events: ForwardEvents,
  ) {}

  async open(): Promise<RemoteListener> {
    const what = `remote ${endpointText(this.spec.remote)} → ${endpointText(this.local)}`;
    const listen = this.host.listen;
    if (listen === undefined) throw new MproxyError('E_NOT_IMPLEMENTED', 'this target cannot listen for forwards');
    try {
      this.generation = this.host.generation;
      this.listener = await listen.call(this.host, this.spec.remote, (c) =>
        bridge(c, () => connectHere(this.local), this.events.verbose, what),
      );
      return this.listener;
    } catch (err) {
      // The agent says EADDRINUSE; sshd only that it was unable to bind.
      const inUse = (err as { errno?: unknown }).errno === 'EADDRINUSE' || /EADDRINUSE|unable to bind/i.test(messageOf(err));
      const why = inUse ? 'it is in use there' : messageOf(err);
      throw new MproxyError('E_LISTEN', `cannot listen at ${endpointText(this.spec.remote)} on the remote: ${why}`, {
        hint: isMproxyError(err) && err.code === 'E_NOT_IMPLEMENTED' ? err.hints : 'pick another remote port, or stop what uses it there',
        pointer: `/forwards/${this.spec.index}/remote`,
        cause: err,
      });
    }
  }

  /** After a reconnect the listener is gone with the old link: make it again. */
  async renew(): Promise<void> {
    if (this.host.generation === this.generation) return;
    this.events.verbose?.(`the link was renewed: listening again at remote ${endpointText(this.spec.remote)}`);
    await this.listener?.close().catch(() => undefined);
    await this.open().catch((err: unknown) => this.events.verbose?.(messageOf(err)));
  }

  close(): Promise<void> {
    return this.listener?.close().catch(() => undefined) ?? Promise.resolve();
  }
}

/** Why this target cannot forward, or undefined when it can. */
export function cannotForward(host: RemoteHost): string | undefined {
  if (host.connect === undefined || host.listen === undefined) return 'this target opens no sockets';
  return host.info().limitations.find((l) => l.feature === 'forwards')?.why;
}

export async function startForwards(host: RemoteHost, specs: readonly ForwardSetting[], events: ForwardEvents): Promise<Forwards> {
  const why = specs.length > 0 ? cannotForward(host) : undefined;
  if (why !== undefined)
    throw new MproxyError('E_NOT_IMPLEMENTED', `cannot forward: ${why}`, {
      hint: 'install Node.js >= 18 on the remote (for a container: an image with it) so the agent runs',
      pointer: `/forwards/${specs[0]?.index ?? 0}`,
    });
  const undo: (() => Promise<void>)[] = [];
  const remoteEnds: RemoteEnd[] = [];
  let env: Record<string, string> = {};
  const close = async (): Promise<void> => {
    for (const u of undo.splice(0).reverse()) await u().catch(() => undefined);
  };
  try {
    for (const spec of specs) {
      if (spec.direction === 'to-remote') {
        const local = spec.local ?? spec.remote;
        const what = `${endpointText(local)} → remote ${endpointText(spec.remote)}`;
        const connect = host.connect;
        if (connect === undefined) throw new MproxyError('E_NOT_IMPLEMENTED', 'this target cannot open forwarded connections');
        const l = await listenHere(
          local,
          (s) => bridge(s, () => connect.call(host, spec.remote), events.verbose, what),
          `/forwards/${spec.index}/local`,
        );
        undo.push(() => l.close());
        events.started?.(what);
        continue;
      }
      let local = spec.local;
      if (spec.service === 'http-proxy') {
        const proxy = await startHttpProxy();
        undo.push(() => proxy.close());
        local = { host: '127.0.0.1', port: proxy.port };
      }
      if (local === undefined) continue;
      const end = new RemoteEnd(host, spec, local, events);
      const listener = await end.open();
      undo.push(() => end.close());
      remoteEnds.push(end);
      if (spec.service === 'http-proxy') env = { ...env, ...proxyEnv(listener.port) };
      events.started?.(
        `remote ${endpointText(spec.remote)} → ${spec.service === 'http-proxy' ? 'the built-in HTTP proxy' : endpointText(local)}`,
      );
    }
  } catch (err) {
    await close();
    throw err;
  }
  if (remoteEnds.length > 0) {
    // A dropped link is noticed (and renewed) by the next remote operation: make one now and then.
    const timer = setInterval(() => {
      host.fs.call('getwd').then(
        () => Promise.all(remoteEnds.map((e) => e.renew())),
        () => undefined,
      );
    }, KEEPALIVE_MS);
    timer.unref();
    undo.push(async () => clearInterval(timer));
  }
  return { env, close };
}

/**
 * A forward's end as a profile writes it: a port (8080: 127.0.0.1 here, the loopback there),
 * "host:port" ("[::1]:8080" for IPv6), or an absolute Unix socket path.
 */
export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const LOOPBACK = '127.0.0.1';
const FORMS = 'a port (8080), "host:port" or an absolute socket path';

function port(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65_535 ? n : undefined;
}

export function parseEndpoint(v: number | string): Parsed<Endpoint> {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 1 && v <= 65_535
      ? { ok: true, value: { host: LOOPBACK, port: v } }
      : { ok: false, reason: `port ${v} is not between 1 and 65535` };
  }
  if (v.startsWith('/')) return { ok: true, value: { path: v } };
  const only = port(v);
  if (only !== undefined) return { ok: true, value: { host: LOOPBACK, port: only } };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d+)$/.exec(v);
  if (m === null) return { ok: false, reason: `\`${v}\` is not ${FORMS}` };
  const p = port(m[3] ?? '');
  if (p === undefined) return { ok: false, reason: `port ${m[3] ?? ''} is not between 1 and 65535` };
  return { ok: true, value: { host: m[1] ?? m[2] ?? LOOPBACK, port: p } };
}

/** The endpoint as a profile would write it, for messages. */
export function endpointText(e: Endpoint): string {
  return 'path' in e ? e.path : e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * The [[forwards]] checks the schema cannot express: each end parses (a port, "host:port" or an
 * absolute socket path), a to-remote forward says where to listen here, a to-local one what it
 * reaches here (or names a service instead), and no two forwards listen at the same place.
 */
import { endpointText, parseEndpoint } from '../util/endpoint.js';
import type { Finding } from './diagnostics.js';
import { isPlainTable } from './interpolate.js';

const isEnd = (v: unknown): v is number | string => typeof v === 'number' || typeof v === 'string';

export function checkForwards(forwards: unknown): Finding[] {
  if (!Array.isArray(forwards)) return [];
  const out: Finding[] = [];
  const listeners = new Map<string, number>();
  forwards.forEach((raw: unknown, i) => {
    if (!isPlainTable(raw)) return;
    const base = `/forwards/${i}`;
    const direction = raw['direction'] === 'to-local' ? 'to-local' : 'to-remote';
    const service = raw['service'];
    for (const side of ['local', 'remote'] as const) {
      const v = raw[side];
      if (!isEnd(v)) continue;
      const parsed = parseEndpoint(v);
      if (!parsed.ok) {
        out.push({ pointer: `${base}/${side}`, message: parsed.reason, hints: ['write a port (8080), "host:port" or /path/to.sock'] });
        continue;
      }
      // Where this forward listens: here for to-remote, there for to-local.
      const listens = (side === 'local') === (direction === 'to-remote');
      if (!listens) continue;
      const key = `${side}:${endpointText(parsed.value)}`;
      const first = listeners.get(key);
      if (first !== undefined)
        out.push({
          pointer: `${base}/${side}`,
          message: `forwards[${first}] already listens at ${endpointText(parsed.value)} ${side === 'local' ? 'here' : 'on the remote'}`,
          hints: ['give each forward its own port or socket'],
        });
      else listeners.set(key, i);
    }
    const remote = raw['remote'];
    if (service !== undefined && typeof remote === 'string' && remote.startsWith('/'))
      out.push({ pointer: `${base}/remote`, message: 'a proxy is reached by HTTP_PROXY, which names a port: give the remote end as one' });
    else if (service !== undefined && direction !== 'to-local')
      out.push({ pointer: `${base}/service`, message: 'a service answers remote connections: it needs direction = "to-local"' });
    else if (service !== undefined && raw['local'] !== undefined)
      out.push({
        pointer: `${base}/local`,
        message: `with service = "${String(service)}" there is no local end to name`,
        hints: ['drop local'],
      });
    else if (service === undefined && raw['local'] === undefined)
      out.push({
        pointer: `${base}/remote`,
        message:
          direction === 'to-remote'
            ? 'a to-remote forward needs `local`: where to listen here'
            : 'a to-local forward needs `local` (the service it reaches here) or `service`',
        hints: ['local = 18080'],
      });
  });
  return out;
}

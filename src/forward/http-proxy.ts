/**
 * The built-in proxy of `service = "http-proxy"`: an HTTP forward proxy (GET http://host/… ) and
 * CONNECT tunnels (https://, and anything else that speaks it), on 127.0.0.1 here, reached by a
 * remote with no internet of its own through a to-local forward. Requests it forwards carry
 * `Via: 1.1 mproxy`. It reaches what this machine reaches: that is the point, and why it is
 * opt-in.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { MproxyError, messageOf } from '../util/errors.js';
import { listenerOf } from './here.js';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

export interface HttpProxy {
  readonly port: number;
  close(): Promise<void>;
}

function refuse(res: ServerResponse, status: number, why: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(`mproxy http-proxy: ${why}\n`);
}

function forwardRequest(req: IncomingMessage, res: ServerResponse): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    return refuse(res, 400, 'a proxy request names an absolute URL (http://host/path)');
  }
  if (url.protocol !== 'http:') return refuse(res, 400, `${url.protocol} goes through CONNECT`);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) headers[k] = v;
  headers['via'] = [req.headers['via'], '1.1 mproxy'].filter((x) => x !== undefined).join(', ');
  const out = request(url, { method: req.method ?? 'GET', headers }, (answer) => {
    const back: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) back[k] = v;
    res.writeHead(answer.statusCode ?? 502, back);
    answer.pipe(res);
  });
  out.on('error', (err) => (res.headersSent ? res.destroy() : refuse(res, 502, messageOf(err))));
  req.pipe(out);
}

function tunnel(req: IncomingMessage, client: Duplex, head: Buffer): void {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
  if (m === null) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  const upstream: Socket = connect(Number(m[2]), m[1] ?? '');
  upstream.once('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\r\nVia: 1.1 mproxy\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.once('error', (err) => {
    if (upstream.connecting) client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${messageOf(err)}\n`);
    else client.destroy();
  });
  client.on('error', () => upstream.destroy());
}

export async function startHttpProxy(): Promise<HttpProxy> {
  const server: Server = createServer(forwardRequest);
  server.on('connect', tunnel);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new MproxyError('E_LISTEN', `the built-in proxy cannot listen: ${messageOf(err)}`)));
    server.listen(0, '127.0.0.1', resolve);
  });
  return listenerOf(server, () => server.closeAllConnections());
}

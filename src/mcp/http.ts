/**
 * MCP over Streamable HTTP at http://HOST:PORT/mcp, stateless (every POST is a whole exchange,
 * so any number of clients can use one server). Every request must carry
 * `Authorization: Bearer TOKEN`; a wrong or missing one gets 401 and nothing else, compared in
 * constant time. Only POST: GET (a server-sent stream) and DELETE (a session) have nothing to
 * serve without sessions.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { MproxyError, messageOf } from '../util/errors.js';

/** A request body larger than this is refused (a write_file of a big file fits well within). */
const MAX_BODY = 64 * 1024 * 1024;

export interface HttpFace {
  readonly url: string;
  close(): Promise<void>;
}

function authorized(req: IncomingMessage, token: Buffer): boolean {
  const given = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.concat([Buffer.from('Bearer '), token]);
  return given.length === want.length && timingSafeEqual(given, want);
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: status === 401 ? 'unauthorized' : 'not here' }, id: null }));
}

function body(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        reject(new MproxyError('E_USAGE', `request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else parts.push(d);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(parts).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, makeServer: () => Server, token: Buffer): Promise<void> {
  if (!authorized(req, token)) return answer(res, 401, { 'www-authenticate': 'Bearer' });
  if ((req.url ?? '').split('?')[0] !== '/mcp') return answer(res, 404);
  if (req.method !== 'POST') return answer(res, 405, { allow: 'POST' });
  let parsed: unknown;
  try {
    parsed = await body(req);
  } catch (err) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: `parse error: ${messageOf(err)}` }, id: null }));
    return;
  }
  const server = makeServer();
  // No sessionIdGenerator: stateless, each POST answered on its own.
  const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, parsed);
}

/** Listens on `host:port` (port 0: any free one); a port in use is an error that says so. */
export async function serveHttp(host: string, port: number, token: string, makeServer: () => Server): Promise<HttpFace> {
  const secret = Buffer.from(token);
  const http: HttpServer = createServer((req, res) => {
    handle(req, res, makeServer, secret).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: messageOf(err) }, id: null }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new MproxyError('E_LISTEN', `cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`, {
          hint: 'pick another port: --http PORT',
        }),
      ),
    );
    http.listen(port, host, () => resolve());
  });
  const bound = http.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

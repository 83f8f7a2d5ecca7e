/**
 * Servers and clients run on a test remote for the forward tests: a TCP or Unix-socket echo
 * server (node where the remote has it, else python3), a one-shot Unix-socket client, and
 * busybox httpd for files only the remote has. Each long-running one says `ready` once it
 * listens and is stopped with the test.
 */
import type { RemoteHost, RemoteProcess } from '../../src/remote/host.js';
import { waitUntil } from '../helpers/wait.js';

const NODE_ECHO = `
const net = require('net');
const [kind, where] = process.argv.slice(1);
const s = net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c));
const ready = () => console.log('ready');
kind === 'unix' ? s.listen(where, ready) : s.listen(Number(where), '127.0.0.1', ready);`;

const PY_ECHO = `
import os, socket, socketserver, sys
kind, where = sys.argv[1], sys.argv[2]
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                self.request.shutdown(socket.SHUT_WR)
                return
            self.request.sendall(d)
# The backlog is read when the server binds: set first, or 200 connections at once overflow it.
socketserver.TCPServer.request_queue_size = 256
socketserver.TCPServer.allow_reuse_address = True
if kind == 'unix':
    srv = socketserver.ThreadingUnixStreamServer(where, Echo)
else:
    srv = socketserver.ThreadingTCPServer(('127.0.0.1', int(where)), Echo)
srv.daemon_threads = True
print('ready', flush=True)
srv.serve_forever()`;

const NODE_UNIX_CLIENT = `
const c = require('net').connect(process.argv[1], () => c.end(process.argv[2]));
c.on('data', (d) => process.stdout.write(d));`;

const PY_UNIX_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()); s.shutdown(socket.SHUT_WR)
while True:
    d = s.recv(65536)
    if not d: break
    sys.stdout.write(d.decode())`;

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** `node -e JS args` where there is node, else `python3 -c PY args`. */
function either(js: string, py: string, args: readonly string[]): string {
  const a = args.map(q).join(' ');
  return `if command -v node >/dev/null 2>&1; then exec node -e ${q(js)} ${a}; else exec python3 -c ${q(py)} ${a}; fi`;
}

export interface Running {
  stop(): Promise<void>;
}

async function background(host: RemoteHost, script: string): Promise<Running> {
  const p: RemoteProcess = host.exec({ argv: ['/bin/sh', '-c', script], env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, cwd: '/' });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let ended = false;
  p.exited.then(
    () => (ended = true),
    () => (ended = true),
  );
  await waitUntil(`a remote server ready (${script.slice(0, 60)}…)`, () => {
    if (ended) throw new Error(`the remote server ended: ${err}${out}`);
    return out.includes('ready');
  });
  return {
    stop: async () => {
      p.signal('SIGKILL');
      await p.exited.catch(() => undefined);
    },
  };
}

export function echoServer(host: RemoteHost, at: { port: number } | { path: string }): Promise<Running> {
  const args = 'path' in at ? ['unix', at.path] : ['tcp', String(at.port)];
  return background(host, either(NODE_ECHO, PY_ECHO, args));
}

/** busybox httpd serving `dir` on the remote's loopback. */
export function fileServer(host: RemoteHost, port: number, dir: string): Promise<Running> {
  return background(host, `busybox httpd -f -p 127.0.0.1:${port} -h ${q(dir)} & sleep 0.3; echo ready; wait`);
}

/** A remote shell command's stdout (it must succeed). */
export async function remoteOutput(host: RemoteHost, script: string): Promise<string> {
  const p = host.exec({ argv: ['/bin/sh', '-c', script], env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, cwd: '/' });
  p.stdin.end();
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await p.exited;
  if (status.code !== 0) throw new Error(`remote \`${script}\` failed (${status.code ?? status.signal}): ${err}`);
  return out;
}

/** Sends `text` to a Unix socket on the remote and returns the answer. */
export function unixRequest(host: RemoteHost, path: string, text: string): Promise<string> {
  return remoteOutput(host, either(NODE_UNIX_CLIENT, PY_UNIX_CLIENT, [path, text]));
}

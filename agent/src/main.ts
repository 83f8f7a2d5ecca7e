/**
 * mproxy's agent: started once per session on the remote (`node agent.js`), it speaks frames on
 * stdin/stdout and serves many execs, file operations and PATH queries at once. It never runs
 * anything it was not asked to by a well-formed frame: a protocol error ends it.
 */
import { homedir, userInfo } from 'node:os';
import { ProtocolError } from '../../src/protocol/codec.js';
import { PROTOCOL_VERSION, T, type Frame, type FrameOf } from '../../src/protocol/frames.js';
import { AgentChannel } from './channel.js';
import { ExecSession } from './exec.js';
import { filesSupported } from './files.js';
import { ArgumentError, closeAllHandles, isFileOp, runFileOp } from './fs-ops.js';
import { listExecutables } from './path-query.js';
import { Spawner } from './spawner.js';
import { NetStreams } from './net.js';
import { findHelper } from './pty.js';
import { Watches } from './watch.js';

const channel = new AgentChannel(process.stdin, process.stdout);
const sessions = new Map<number, ExecSession>();
/** `node agent.cjs [PTY-HELPER]`: without a usable helper there are no pseudo-terminals. */
const ptyHelper = findHelper(process.argv[2]);
/** The same helper starts plain execs faster than Node can (spawner.ts). */
const spawner = Spawner.start(ptyHelper);
const watches = new Watches((frame) => channel.send(frame), ptyHelper);
const net = new NetStreams(channel);
let greeted = false;

function errnoOf(err: unknown): { e: string; m: string } {
  if (err instanceof ArgumentError) return { e: 'EINVAL', m: err.message };
  const e = err as NodeJS.ErrnoException;
  return { e: typeof e.code === 'string' ? e.code : 'EIO', m: e.message ?? String(err) };
}

type Handler<K extends Frame['t']> = (frame: FrameOf<K>) => void;
const HANDLERS: { [K in Frame['t']]?: Handler<K> } = {
  // Hello {t:0, v: version, caps}: the client's greeting; answered with ours once.
  [T.Hello]: (f) => {
    if (f.v !== PROTOCOL_VERSION) {
      channel.send({ t: T.Error, id: 0, code: 'E_VERSION', msg: `agent speaks protocol ${PROTOCOL_VERSION}, client ${f.v}` });
      return shutdown(2);
    }
    greeted = true;
  },
  // Exec {t:1, id, argv, env, cwd, fds, fdModes?, pty?, joins?}: start a process; Exit or Error {id} ends it.
  [T.Exec]: (f) => {
    if (sessions.has(f.id)) throw new ProtocolError(`exec id ${f.id} is already in use`);
    if (f.pty !== undefined && ptyHelper === undefined) {
      return channel.send({
        t: T.Error,
        id: f.id,
        code: 'E_NO_PTY',
        msg: "this agent has no pty helper (none was built for this machine's kind)",
      });
    }
    try {
      sessions.set(
        f.id,
        new ExecSession(
          f,
          channel,
          () => sessions.delete(f.id),
          ptyHelper,
          spawner,
          (then) => watches.settle(then),
        ),
      );
    } catch (err) {
      // A pipe that could not be made (no mkfifo), say: this exec fails, the agent goes on.
      channel.send({ t: T.Error, id: f.id, code: 'E_SPAWN', msg: err instanceof Error ? err.message : String(err) });
    }
  },
  // Data {t:2, id, s, d}: bytes for the process's stdin (s=0) or extra fd s; for connection id, its socket.
  [T.Data]: (f) => (net.has(f.id) ? net.data(f.id, f.d) : sessions.get(f.id)?.data(f.s, f.d)),
  // Eof {t:3, id, s}: no more input on stream s (a connection: its write side ends).
  [T.Eof]: (f) => (net.has(f.id) ? net.eof(f.id) : sessions.get(f.id)?.eof(f.s)),
  // Ack {t:16, id, s, n}: the client consumed n bytes of output stream s.
  [T.Ack]: (f) => (net.has(f.id) ? net.ack(f.id, f.n) : sessions.get(f.id)?.ack(f.s, f.n)),
  // Error {t:6, id, code, msg}: the client's end of connection id failed: reset it.
  [T.Error]: (f) => net.reset(f.id),
  // Connect {t:18, id, to}: open a connection; answered by Opened {id} or Error {id}.
  [T.Connect]: (f) => net.connect(f.id, f.to),
  // Listen {t:20, id, at}: listen; answered by Listening {id, port} or Error {id}, then Accepted {id', listener: id}.
  [T.Listen]: (f) => net.listen(f.id, f.at),
  // Unlisten {t:23, id}: close listener id (no answer).
  [T.Unlisten]: (f) => net.unlisten(f.id),
  // Signal {t:4, id, sig}: deliver sig (a name: SIGINT…) to the process group.
  [T.Signal]: (f) => sessions.get(f.id)?.signal(f.sig),
  // Resize {t:13, id, cols, rows}: new window size of the process's pty (SIGWINCH to it).
  [T.Resize]: (f) => sessions.get(f.id)?.resize(f.cols, f.rows),
  // PathQuery {t:9, id, dirs}: answered by PathInfo {t:10, id, entries}.
  [T.PathQuery]: (f) => {
    listExecutables(f.dirs).then(
      (entries) => channel.send({ t: T.PathInfo, id: f.id, entries }),
      (err: unknown) => channel.send({ t: T.Error, id: f.id, code: errnoOf(err).e, msg: errnoOf(err).m }),
    );
  },
  // Watch {t:14, id, path}: answered by FileResp {t:12, id, r: null} or {e, m}; then Invalidate {t:15, id, name}.
  [T.Watch]: (f) => {
    watches.add(f.id, f.path, (err) => channel.send({ t: T.FileResp, id: f.id, ...(err === undefined ? { r: null } : errnoOf(err)) }));
  },
  // Unwatch {t:17, id}: stop watch id (no answer).
  [T.Unwatch]: (f) => watches.remove(f.id),
  // FileOp {t:11, id, op, a}: answered by FileResp {t:12, id, r} or {t:12, id, e, m}.
  [T.FileOp]: (f) => {
    if (!isFileOp(f.op)) return channel.send({ t: T.FileResp, id: f.id, e: 'ENOSYS', m: `unknown file operation ${f.op}` });
    runFileOp(f.op, f.a).then(
      (r) => channel.send({ t: T.FileResp, id: f.id, r }),
      (err: unknown) => channel.send({ t: T.FileResp, id: f.id, ...errnoOf(err) }),
    );
  },
};

function onFrame(frame: Frame): void {
  if (!greeted && frame.t !== T.Hello) throw new ProtocolError('the first frame must be Hello');
  const handler = HANDLERS[frame.t] as Handler<Frame['t']> | undefined;
  if (handler === undefined) throw new ProtocolError(`frame type ${frame.t} is not accepted by the agent`);
  handler(frame);
}

function shutdown(code: number): void {
  watches.closeAll();
  net.closeAll();
  for (const s of sessions.values()) s.signal('SIGKILL');
  void closeAllHandles().finally(() => process.exit(code));
}

channel.send({
  t: T.Hello,
  v: PROTOCOL_VERSION,
  caps: [
    'exec',
    'fs',
    'path',
    'signals',
    'watch',
    'net',
    'pipes',
    ...(filesSupported() ? (['files'] as const) : []),
    ...(ptyHelper !== undefined ? (['pty'] as const) : []),
  ],
  info: {
    node: process.versions.node,
    platform: process.platform,
    arch: process.arch,
    pid: process.pid,
    home: homedir(),
    user: userInfo().username,
    path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    shell: process.env['SHELL'] ?? userInfo().shell ?? '/bin/sh',
    ...(process.getuid !== undefined && process.getgid !== undefined ? { uid: process.getuid(), gid: process.getgid() } : {}),
  },
});
channel.start(
  (frame) => {
    try {
      onFrame(frame);
    } catch (err) {
      fatal(err);
    }
  },
  (err) => (err === undefined ? shutdown(0) : fatal(err)),
);

function fatal(err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  channel.send({ t: T.Error, id: 0, code: 'E_PROTOCOL', msg });
  process.stderr.write(`mproxy-agent: protocol error: ${msg}\n`);
  shutdown(3);
}

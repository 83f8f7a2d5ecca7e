/**
 * One shim's connection: its request is checked (session token) and decided (policy); a local
 * command is handed back to the shim to exec, a remote one is started on the RemoteHost and
 * carried both ways until it exits. The frame handlers are in one table, each under its wire
 * format (native/shim/main.c is the other end).
 */
import type { Socket } from 'node:net';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { RemoteHost, RemoteProcess } from '../remote/host.js';
import { isMproxyError, messageOf } from '../util/errors.js';
import type { PipeJoin } from '../protocol/frames.js';
import { type FilePlan, type MountFiles, planFiles, settleFiles } from './file-opens.js';
import type { PipePairs } from './pairing.js';
import type { Decision } from './policy.js';
import {
  exitFrame,
  FrameReader,
  frameHeader,
  FromShim,
  parseRequest,
  seekFrame,
  textFrame,
  tokenMatches,
  ToShim,
  type ShimRequest,
} from './wire.js';
import { signalName, signalNumber, startIgnoring } from './signals.js';

/** What the broker lets a connection do; shared by every connection of the session. */
export interface BrokerContext {
  readonly host: RemoteHost;
  readonly token: Buffer;
  readonly decide: (req: ShimRequest) => Promise<Decision>;
  /** The environment of a remote command, from the shim's (filtered here, once). */
  readonly remoteEnv: (env: Readonly<Record<string, string>>) => Record<string, string>;
  readonly observer?: CommandObserver;
  readonly verbose?: (message: string) => void;
  /** Pipelines of remote commands joined on the remote (hosts that can: info lists 'pipes'). */
  readonly pairs?: PipePairs;
  /** Redirections to and from the mounts opened on the remote (hosts that can: info lists 'files'). */
  readonly files?: MountFiles;
}

/** Told about every remote command (a recording): its start, each stdio chunk (fd 0 in), its end. */
export interface CommandObserver {
  started(argv: readonly string[], cwd: string, env: Readonly<Record<string, string>>): number;
  data(id: number, fd: number, chunk: Buffer): void;
  ended(id: number, code: number | null, signal: string | null): void;
}

const KILL_AFTER_HANGUP_MS = 2000;
/** Frames a shim may send while its request is decided (signals, a resize): more is not a shim. */
const MAX_EARLY_FRAMES = 64;

export class ShimConnection {
  private readonly reader = new FrameReader();
  private proc: RemoteProcess | undefined;
  private requested = false;
  private commandId = -1;
  /** Files of the mount the remote opened for the command: settled before its exit is told. */
  private plan: FilePlan | undefined;
  /** Frames that came while the request was being decided: handled once the process exists. */
  private early: { type: number; payload: Buffer }[] | undefined = [];

  constructor(
    private readonly socket: Socket,
    private readonly ctx: BrokerContext,
  ) {
    socket.setNoDelay?.(true);
    // A connection that speaks anything but the shim's protocol is closed, alone: the session
    // and every other command go on.
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.reader.push(chunk)) this.handle(frame.type, frame.payload);
      } catch (err) {
        this.refuse(`broker: closed a connection: ${messageOf(err)}`);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.hangUp());
  }

  private readonly handlers: Readonly<Record<number, (payload: Buffer) => void>> = {
    // REQUEST: NUL-terminated token, path, cwd, shebang, tty, fds, argc, argv..., env...
    [FromShim.Request]: (payload) => {
      this.start(payload).catch((err: unknown) => this.refuse(`broker: a command failed to start: ${messageOf(err)}`));
    },
    // DATA: u8 fd, bytes — what the command reads on that fd.
    [FromShim.Data]: (payload) => {
      const fd = payload[0] ?? -1;
      const input = this.inputOf(fd);
      if (input !== undefined) this.ctx.observer?.data(this.commandId, fd, payload.subarray(1));
      if (input !== undefined && !input.write(payload.subarray(1))) {
        this.socket.pause();
        input.once('drain', () => this.socket.resume());
      }
    },
    // EOF: u8 fd — that input is at its end.
    [FromShim.Eof]: (payload) => this.inputOf(payload[0] ?? -1)?.end(),
    // SIGNAL: u8 signal number — delivered to the command (its terminal's foreground group).
    [FromShim.Signal]: (payload) => {
      const name = signalName(payload[0] ?? 0);
      if (name !== undefined) this.proc?.signal(name);
    },
    // RESIZE: u16 rows, u16 cols — the terminal's new size.
    [FromShim.Resize]: (payload) => {
      if (payload.length >= 4) this.proc?.resize(payload.readUInt16LE(2), payload.readUInt16LE(0));
    },
  };

  private handle(type: number, payload: Buffer): void {
    if (!this.requested && type !== FromShim.Request) throw new Error(`frame type ${type} before the request`);
    if (type !== FromShim.Request && this.early !== undefined) {
      if (this.early.length >= MAX_EARLY_FRAMES) throw new Error('input before the command started');
      this.early.push({ type, payload });
    } else if (type === FromShim.Request || this.proc !== undefined) this.handlers[type]?.(payload);
  }

  /** Closes this connection only (its command, if any, is hung up on); says why when verbose. */
  private refuse(why: string): void {
    this.ctx.verbose?.(why);
    this.socket.destroy();
  }

  private inputOf(fd: number): Writable | undefined {
    if (fd === 0) return this.proc?.stdin;
    return this.proc?.fds.get(fd)?.input;
  }

  private async start(payload: Buffer): Promise<void> {
    if (this.requested) return;
    this.requested = true;
    const req = parseRequest(payload);
    if (req === undefined || !tokenMatches(req.token, this.ctx.token)) {
      this.refuse('broker: refused a connection without the session token');
      return;
    }
    let decision: Decision;
    try {
      decision = await this.ctx.decide(req);
    } catch (err) {
      this.finish(255, 0, messageOf(err));
      return;
    }
    const who = basename(req.argv[0] ?? '');
    if (decision.where === 'local') {
      this.ctx.pairs?.declineAll(req.pipes, `${who} runs here`);
      this.socket.end(textFrame(ToShim.Local, decision.path));
      return;
    }
    const joins = await this.joinPipes(req, who);
    if (this.socket.destroyed) return; // the shim went while its partner was awaited
    const plan =
      this.ctx.files !== undefined ? planFiles(req.files, this.ctx.files, who, req.tty !== undefined, this.ctx.verbose) : undefined;
    this.plan = plan;
    const taken = plan?.taken ?? [];
    // REMOTE: the shim starts reading the command's input only now (a local command's stays
    // put), except from the files the remote opens itself.
    this.socket.write(Buffer.concat([frameHeader(ToShim.Remote, taken.length), Buffer.from(taken)]));
    const env = this.ctx.remoteEnv(req.env);
    const carried = req.fds.filter((f) => !taken.includes(f.fd));
    const fds = carried.map((f) => f.fd);
    const proc = this.ctx.host.exec({
      argv: startIgnoring(decision.argv, req.ignored),
      env,
      cwd: decision.cwd,
      ...(fds.length > 0 ? { fds, fdModes: carried.map((f) => f.dir).join('') } : {}),
      ...(joins.length > 0 ? { joins } : {}),
      ...(plan !== undefined && plan.opens.length > 0 ? { files: plan.opens } : {}),
      ...(req.tty !== undefined ? { pty: { rows: req.tty.rows, cols: req.tty.cols, term: req.env['TERM'] ?? 'xterm-256color' } } : {}),
    });
    this.proc = proc;
    const early = this.early ?? [];
    this.early = undefined;
    for (const frame of early) this.handle(frame.type, frame.payload);
    this.commandId = this.ctx.observer?.started(decision.argv, decision.cwd, env) ?? -1;
    const outputs: [number, Readable][] = [
      [1, proc.stdout],
      [2, proc.stderr],
    ];
    for (const f of carried) {
      const streams = proc.fds.get(f.fd);
      if (streams === undefined) continue;
      if (f.dir === 'w') outputs.push([f.fd, streams.output]);
      else streams.output.resume();
    }
    const drained = outputs.map(([fd, stream]) => this.forward(fd, stream, outputs));
    try {
      const status = await proc.exited;
      await Promise.all(drained);
      this.ctx.observer?.ended(this.commandId, status.code, status.signal);
      await this.settleFiles(status.positions);
      this.finish(status.code, status.signal === null ? 0 : (signalNumber(status.signal) ?? 0));
    } catch (err) {
      const code =
        isMproxyError(err) && err.code === 'E_COMMAND_NOT_FOUND'
          ? 127
          : isMproxyError(err) && err.code === 'E_COMMAND_NOT_EXECUTABLE'
            ? 126
            : 255;
      this.ctx.observer?.ended(this.commandId, code, null);
      await this.settleFiles(undefined);
      this.finish(code, 0, code === 127 ? `${messageOf(err)} on the remote` : messageOf(err));
    }
  }

  /** The fds of `req` joined on the remote to their pipeline partner's (pairing.ts); each outcome said when verbose. */
  private async joinPipes(req: ShimRequest, who: string): Promise<PipeJoin[]> {
    const pairs = this.ctx.pairs;
    if (pairs === undefined || req.pipes.length === 0) return [];
    const outcomes = await pairs.offer(req.pipes, who);
    const joins: PipeJoin[] = [];
    for (const p of req.pipes) {
      const o = outcomes.get(p.ino);
      if (o?.joined === true) joins.push({ fd: p.fd, pipe: o.pipe, end: p.end });
    }
    for (const p of req.pipes.filter((e, i, all) => e.joinable && all.findIndex((x) => x.ino === e.ino) === i)) {
      const o = outcomes.get(p.ino);
      if (o?.joined === true && p.end === 'w') this.ctx.verbose?.(`pipe joined on the remote: ${who} | ${o.partner}`);
      else if (o?.joined === false) this.ctx.verbose?.(`pipe ${p.end === 'w' ? 'out of' : 'into'} ${who} carried here: ${o.why}`);
    }
    return joins;
  }

  /** One output of the command to the shim as DATA frames, then EOF; paced by the socket. */
  private forward(fd: number, stream: Readable, all: readonly [number, Readable][]): Promise<void> {
    return new Promise((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        this.ctx.observer?.data(this.commandId, fd, chunk);
        // One writev for header and data.
        this.socket.cork();
        this.socket.write(frameHeader(ToShim.Data, chunk.length, fd));
        const flowing = this.socket.write(chunk);
        this.socket.uncork();
        if (!flowing) {
          for (const [, s] of all) s.pause();
          this.socket.once('drain', () => {
            for (const [, s] of all) s.resume();
          });
        }
      });
      const done = (): void => {
        if (!this.socket.destroyed) this.socket.write(frameHeader(ToShim.Eof, 0, fd));
        resolve();
      };
      stream.once('end', done);
      stream.once('error', done);
    });
  }

  /** What the remote wrote into files of the mount is seen here from now on; each fd's position follows the remote's. */
  private async settleFiles(positions: readonly number[] | undefined): Promise<void> {
    const plan = this.plan;
    this.plan = undefined;
    if (plan === undefined || plan.opens.length === 0 || this.ctx.files === undefined) return;
    const seeks = await settleFiles(plan, positions, this.ctx.files);
    if (!this.socket.destroyed) for (const s of seeks) this.socket.write(seekFrame(s.fd, s.pos));
  }

  private finish(code: number | null, signal: number, error?: string): void {
    if (this.socket.destroyed) return;
    if (error !== undefined) this.socket.write(textFrame(ToShim.Error, error));
    this.socket.end(exitFrame(code, signal));
    this.proc = undefined;
  }

  /** The shim went away (killed, or its session ended): the command is hung up on, then killed. */
  private hangUp(): void {
    const proc = this.proc;
    if (proc === undefined) return;
    this.proc = undefined;
    proc.signal('SIGHUP');
    const timer = setTimeout(() => proc.signal('SIGKILL'), KILL_AFTER_HANGUP_MS);
    timer.unref();
    proc.exited.then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
  }
}

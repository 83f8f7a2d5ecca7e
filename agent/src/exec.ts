/**
 * One process started for mproxy: spawned in its own process group, its stdio and extra fds
 * carried as Data/Eof frames under per-stream windows, signals sent to the whole group, and one
 * Exit frame once the process has exited and its output is drained. With a pty, the process
 * runs under the pty helper (pty.ts): stdout carries the terminal, stderr stays empty.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import type { Duplex, Readable, Writable } from 'node:stream';
import { ACK_BATCH, MAX_CHUNK, T, WINDOW, type ExecFrame } from '../../src/protocol/frames.js';
import type { AgentChannel } from './channel.js';
import { childPipes, type ChildPipes } from './fifo.js';
import { ChildFiles } from './files.js';
import { takeEnd } from './joins.js';
import { foregroundGroup, parseStatus, ptySpawn, sendSize } from './pty.js';
import type { FastChild, Spawner } from './spawner.js';

interface Outbound {
  readonly stream: Readable;
  credit: number;
}

export class ExecSession {
  private readonly child: ChildProcess | FastChild;
  /** Whether the stdio streams exist yet (the fast path opens them a moment after the start). */
  private attached = false;
  private readonly early: [number, Uint8Array | undefined][] = [];
  private readonly outbound = new Map<number, Outbound>();
  private readonly inbound = new Map<number, Writable>();
  private finished = false;

  private readonly control: Writable | undefined;
  /** Real pipes for directed extra fds (fifo.ts), and how to keep late opens of them going. */
  private readonly pipes: ChildPipes | undefined;
  private readonly pokes = new Map<number, () => void>();
  /** Files opened here for the child (a redirection to or from the mount), held until it exits. */
  private readonly files: ChildFiles | undefined;
  /** With a pty: the session leader on the terminal, once the helper has started it. */
  private ptyLeader: number | undefined;

  constructor(
    private readonly frame: ExecFrame,
    private readonly channel: AgentChannel,
    private readonly onDone: () => void,
    ptyHelper: string | undefined,
    spawner: Spawner | undefined,
    /** Calls back once what the process changed in watched directories is told (watch.ts settle). */
    private readonly settle: (then: () => void) => void = (then) => then(),
  ) {
    const [file = '', ...args] = frame.argv;
    const pty = frame.pty !== undefined && ptyHelper !== undefined ? ptySpawn(ptyHelper, { ...frame, pty: frame.pty }) : undefined;
    const files = frame.files !== undefined && frame.files.length > 0 ? new ChildFiles(frame.files) : undefined;
    this.files = files;
    const maxFd = Math.max(2, ...frame.fds, ...(files?.byFd.keys() ?? []), pty?.controlFd ?? 0);
    this.pipes =
      frame.fdModes !== undefined && frame.fdModes.length === frame.fds.length && frame.fds.length > 0
        ? childPipes(frame.fdModes)
        : undefined;
    const pipes = this.pipes?.ends;
    // Ends of pipes to another process of this agent (joins.ts): plain fds, no stream here.
    const joined = new Map<number, number>();
    const taken = new Map<string, number>(); // `2>&1 |`: stdout and stderr share one end
    try {
      for (const j of frame.joins ?? []) {
        const fd = taken.get(`${j.pipe}${j.end}`) ?? takeEnd(j.pipe, j.end);
        taken.set(`${j.pipe}${j.end}`, fd);
        joined.set(j.fd, fd);
      }
    } catch (err) {
      for (const fd of taken.values()) closeSync(fd);
      files?.close();
      throw err;
    }
    const stdio: ('pipe' | 'ignore' | number)[] = Array.from({ length: maxFd + 1 }, (_, fd) => {
      const piped = pipes?.[frame.fds.indexOf(fd)];
      if (piped !== undefined) return piped.childFd;
      const end = joined.get(fd) ?? files?.byFd.get(fd);
      if (end !== undefined) return end;
      return fd <= 2 || frame.fds.includes(fd) || fd === pty?.controlFd ? 'pipe' : 'ignore';
    });
    // The fast path (spawner.ts) for plain execs; its pipes are ours once it says it started.
    const fast = spawner?.usable === true && pty === undefined && frame.fds.length === 0 && joined.size === 0 && files === undefined;
    try {
      if (fast) this.child = spawner.spawn(frame.argv, frame.env, frame.cwd);
      else if (pty !== undefined) this.child = spawn(pty.file, pty.args, { cwd: frame.cwd, env: pty.env, stdio, detached: true });
      else this.child = spawn(file, args, { cwd: frame.cwd, env: { ...frame.env }, stdio, detached: true });
    } catch (err) {
      files?.close();
      throw err;
    } finally {
      for (const p of pipes ?? []) closeSync(p.childFd);
      for (const fd of taken.values()) closeSync(fd);
    }
    // A joined output, or one into a file opened here, carries nothing: its stream ends at once.
    for (const fd of [...joined.keys(), ...(files?.byFd.keys() ?? [])]) if (fd > 0) channel.send({ t: T.Eof, id: frame.id, s: fd });
    for (const [i, p] of (pipes ?? []).entries()) {
      const fd = frame.fds[i] ?? -1;
      p.stream.on('error', () => undefined);
      if (frame.fdModes?.[i] === 'r') {
        this.inbound.set(fd, p.stream);
        this.pokes.set(fd, p.poke);
      } else {
        this.watchOutbound(fd, p.stream);
      }
    }
    this.control = pty !== undefined ? ((this.child.stdio[pty.controlFd] as Writable | null) ?? undefined) : undefined;
    this.child.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => this.exit(code, signal));
    if (fast) this.child.once('spawn', () => this.attach(undefined));
    else this.attach(pty?.controlFd);
    channel.on('drain', this.resumeAll);
  }

  /** The process's stdio streams, watched; input that came before them goes in now. */
  private attach(controlFd: number | undefined): void {
    this.child.stdio.forEach((s, fd) => {
      if (s === null || s === undefined) return;
      s.on('error', () => undefined); // EPIPE after the child exits: the Exit frame says what happened.
      if (fd === controlFd) return;
      if (fd === 0) this.inbound.set(0, s as Writable);
      else if (fd === 2 && controlFd !== undefined) this.watchHelper(s as Readable);
      else if (fd <= 2) this.watchOutbound(fd, s as Readable);
      else {
        // Extra fds are sockets: the child may read or write them.
        this.inbound.set(fd, s as Duplex);
        this.watchOutbound(fd, s as Duplex);
      }
    });
    this.attached = true;
    for (const [s, d] of this.early.splice(0)) {
      if (d === undefined) this.eof(s);
      else this.data(s, d);
    }
  }

  /** The pty helper's stderr: its status line, then nothing; the process's stderr is the terminal. */
  private watchHelper(stream: Readable): void {
    let text = '';
    stream.setEncoding('latin1');
    stream.on('data', (chunk: string) => {
      if (this.ptyLeader !== undefined) return;
      text += chunk;
      const status = parseStatus(text);
      if (status === undefined) return;
      if (status.ok) this.ptyLeader = status.pid;
      else this.fail(Object.assign(new Error(`${this.frame.argv[0] ?? ''}: ${status.errno}`), { code: status.errno }));
    });
    stream.on('end', () => this.channel.send({ t: T.Eof, id: this.frame.id, s: 2 }));
  }

  private watchOutbound(fd: number, stream: Readable): void {
    const state: Outbound = { stream, credit: WINDOW };
    this.outbound.set(fd, state);
    stream.on('data', (chunk: Buffer) => {
      for (let off = 0; off < chunk.length; off += MAX_CHUNK) {
        const d = chunk.subarray(off, off + MAX_CHUNK);
        this.channel.send({ t: T.Data, id: this.frame.id, s: fd, d });
        state.credit -= d.length;
      }
      if (state.credit <= 0 || this.channel.isCongested) stream.pause();
    });
    stream.on('end', () => this.channel.send({ t: T.Eof, id: this.frame.id, s: fd }));
  }

  private readonly resumeAll = (): void => {
    for (const o of this.outbound.values()) if (o.credit > 0 && o.stream.isPaused()) o.stream.resume();
  };

  ack(s: number, n: number): void {
    const o = this.outbound.get(s);
    if (o === undefined) return;
    o.credit += n;
    if (o.credit > 0 && !this.channel.isCongested && o.stream.isPaused()) o.stream.resume();
  }

  /** Bytes written to the process but not yet acknowledged, per input stream. */
  private readonly written = new Map<number, number>();

  data(s: number, d: Uint8Array): void {
    if (!this.attached) return void this.early.push([s, d]);
    const w = this.inbound.get(s);
    if (w === undefined || w.writableEnded) return;
    w.write(d, () => {
      const n = (this.written.get(s) ?? 0) + d.length;
      if (n < ACK_BATCH) return void this.written.set(s, n);
      this.written.set(s, 0);
      this.channel.send({ t: T.Ack, id: this.frame.id, s, n });
    });
  }

  eof(s: number): void {
    if (!this.attached) return void this.early.push([s, undefined]);
    const input = this.inbound.get(s);
    const poke = this.pokes.get(s);
    if (poke === undefined) return void input?.end();
    // A FIFO: our end closes for the child to see the end of file; pokes keep late opens going.
    input?.end(() => (input as Duplex).destroy());
    poke();
  }

  resize(cols: number, rows: number): void {
    sendSize(this.control, cols, rows);
  }

  signal(sig: string): void {
    if (this.finished) return;
    // Started through the spawner but not yet running: the signal goes once it is.
    if (this.child.pid === undefined) return void this.child.once('spawn', () => this.signal(sig));
    const pid = this.ptyLeader !== undefined ? foregroundGroup(this.ptyLeader) : this.child.pid;
    try {
      process.kill(-pid, sig as NodeJS.Signals);
    } catch {
      try {
        this.child.kill(sig as NodeJS.Signals);
      } catch {
        // Already gone: the Exit frame is on its way.
      }
    }
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.finished) return;
    this.finished = true;
    // spawn says ENOENT for a missing command and for a missing cwd alike: tell them apart.
    const noCwd = err.code === 'ENOENT' && !existsSync(this.frame.cwd);
    this.channel.send({
      t: T.Error,
      id: this.frame.id,
      code: noCwd ? 'E_NO_CWD' : (err.code ?? 'E_SPAWN'),
      msg: noCwd ? `working directory ${this.frame.cwd} does not exist` : err.message,
    });
    this.cleanup();
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.finished) return;
    this.finished = true;
    const pos = this.files?.positions();
    this.settle(() => {
      this.channel.send({ t: T.Exit, id: this.frame.id, code, sig: signal, ...(pos !== undefined ? { pos } : {}) });
      this.cleanup();
    });
  }

  private cleanup(): void {
    this.channel.off('drain', this.resumeAll);
    this.pipes?.close();
    this.files?.close();
    this.onDone();
  }
}

/**
 * The client end of the agent protocol: one connection multiplexing execs, file operations and
 * PATH queries by id. Every request has a deadline; a lost connection fails everything in
 * flight at once with a clear error instead of leaving callers waiting.
 */
import type { Duplex } from 'node:stream';
import { MproxyError } from '../../util/errors.js';
import { traceFrame } from '../../protocol/describe.js';
import { FrameDecoder, ProtocolError } from '../../protocol/codec.js';
import { FrameWriter } from '../../protocol/frame-writer.js';
import { Pieces } from '../../protocol/payloads.js';
import {
  type AgentInfo,
  type Capability,
  type Frame,
  type FrameOf,
  type HelloFrame,
  PROTOCOL_VERSION,
  type PathEntry,
  T,
} from '../../protocol/frames.js';
import type { NetAddress } from '../../protocol/net-frames.js';
import {
  RemoteFsError,
  type ExecRequest,
  type RemoteHost,
  type RemoteInfo,
  type RemoteListener,
  type RemoteWatch,
  type WatchListener,
} from '../host.js';
import { agentFs } from './fs.js';
import { agentRemoteInfo } from './info.js';
import { AgentNet } from './net.js';
import type { AgentClientOptions, AgentTransport } from './options.js';
import { AgentProcess } from './process.js';
import { PendingRequests } from './requests.js';

export class AgentClient implements RemoteHost {
  private nextId = 1;
  private readonly pending: PendingRequests;
  private readonly net: AgentNet;
  /** Frames of one event-loop turn leave in one write (one SSH packet). */
  private readonly writer: FrameWriter;
  private readonly processes = new Map<number, AgentProcess>();
  private readonly watchers = new Map<number, WatchListener>();
  private lost: Error | undefined;
  private agentInfo: AgentInfo | undefined;
  private caps: readonly Capability[] = [];

  readonly fs = agentFs(
    (op, a, pieces) => this.request(`file operation ${op}`, { t: T.FileOp, op, a }, this.nextId++, pieces),
    () => this.transport.description,
  );

  private constructor(
    private readonly transport: AgentTransport,
    private readonly options: AgentClientOptions,
  ) {
    this.writer = new FrameWriter(transport.output);
    this.pending = new PendingRequests(options.opTimeoutMs ?? 30_000, transport.description);
    this.net = new AgentNet(
      (f) => this.send(f),
      () => this.nextId++,
      transport.description,
      options.opTimeoutMs ?? 30_000,
    );
  }

  /** Start talking to an agent on `transport`: wait for its Hello, answer with ours. */
  static async connect(transport: AgentTransport, options: AgentClientOptions = {}): Promise<AgentClient> {
    const client = new AgentClient(transport, options);
    await client.handshake(options.startTimeoutMs ?? 15_000);
    return client;
  }

  private handshake(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(
          new MproxyError('E_AGENT_START', `the agent on ${this.transport.description} did not answer within ${timeoutMs / 1000}s`, {
            hint: this.chatterHint(),
          }),
        );
        void this.transport.close();
      }, timeoutMs);
      this.onHello = (hello) => {
        clearTimeout(timer);
        if (hello.v !== PROTOCOL_VERSION) {
          void this.transport.close();
          return fail(new MproxyError('E_AGENT_START', `the agent speaks protocol ${hello.v}, this mproxy ${PROTOCOL_VERSION}`));
        }
        this.agentInfo = hello.info;
        this.caps = hello.caps;
        this.send({ t: T.Hello, v: PROTOCOL_VERSION, caps: [] });
        resolve();
      };
      this.onStartFailure = fail;
      this.readFrames();
    });
  }

  private onHello: ((hello: HelloFrame) => void) | undefined;
  private onStartFailure: ((error: Error) => void) | undefined;
  private decoder: FrameDecoder | undefined;

  private chatterHint(): string[] {
    const said = this.decoder?.preamble.trim() ?? '';
    return said === '' ? ['check that node >= 18 runs on the remote'] : [`the remote printed instead:\n${said.slice(0, 2000)}`];
  }

  private readFrames(): void {
    this.decoder = new FrameDecoder((frame) => this.dispatch(frame), { expectSync: true, pieces: true });
    this.transport.input.on('data', (chunk: Buffer) => {
      try {
        this.decoder?.push(chunk);
      } catch (err) {
        this.die(
          new MproxyError(
            'E_PROTOCOL',
            `protocol error from the agent on ${this.transport.description}: ${err instanceof Error ? err.message : String(err)}`,
          ),
        );
      }
    });
    this.transport.input.on('end', () =>
      this.die(
        new MproxyError('E_CONNECTION_LOST', `the connection to ${this.transport.description} closed`, {
          hint: this.onHello !== undefined ? this.chatterHint() : [],
        }),
      ),
    );
    this.transport.input.on('error', (err) =>
      this.die(new MproxyError('E_CONNECTION_LOST', `the connection to ${this.transport.description} failed: ${err.message}`)),
    );
    this.transport.output.on('error', (err) =>
      this.die(new MproxyError('E_CONNECTION_LOST', `the connection to ${this.transport.description} failed: ${err.message}`)),
    );
  }

  private readonly handlers: { [K in Frame['t']]?: (f: FrameOf<K>) => void } = {
    // Hello {t:0, v, caps, info}: the agent's greeting, once, before anything else.
    [T.Hello]: (f) => {
      const onHello = this.onHello;
      if (onHello === undefined) throw new ProtocolError('a second Hello');
      this.onHello = undefined;
      this.onStartFailure = undefined;
      onHello(f);
    },
    // Data {t:2, id, s, d}: output of process id on stream s, or bytes from connection id (s=1).
    [T.Data]: (f) => (this.net.owns(f.id) ? this.net.data(f.id, f.d) : this.processes.get(f.id)?.onData(f.s, f.d)),
    // Eof {t:3, id, s}: stream s of process id has ended, or the remote end of connection id.
    [T.Eof]: (f) => (this.net.owns(f.id) ? this.net.eof(f.id) : this.processes.get(f.id)?.onEof(f.s)),
    // Ack {t:16, id, s, n}: the process (or the remote socket of connection id) consumed n bytes of our input.
    [T.Ack]: (f) => (this.net.owns(f.id) ? this.net.ack(f.id, f.n) : this.processes.get(f.id)?.onAck(f.s, f.n)),
    // Opened {t:19, id}, Listening {t:21, id, port}, Accepted {t:22, id, listener}: net-frames.ts.
    [T.Opened]: (f) => this.net.opened(f.id),
    [T.Listening]: (f) => this.net.listening(f.id, f.port),
    [T.Accepted]: (f) => this.net.accepted(f.id, f.listener),
    // Exit {t:5, id, code, sig}: process id is finished and its output drained.
    [T.Exit]: (f) => {
      this.processes.get(f.id)?.onExit({ code: f.code, signal: f.sig, ...(f.pos !== undefined ? { positions: f.pos } : {}) });
      this.processes.delete(f.id);
    },
    // Error {t:6, id, code, msg}: request id failed; id 0: the agent is giving up.
    [T.Error]: (f) => {
      if (f.id === 0)
        return this.die(
          new MproxyError(
            f.code === 'E_PROTOCOL' ? 'E_PROTOCOL' : 'E_CONNECTION_LOST',
            `the agent on ${this.transport.description} stopped: ${f.msg}`,
          ),
        );
      const proc = this.processes.get(f.id);
      if (proc !== undefined) {
        proc.onError(f.code, f.msg);
        this.processes.delete(f.id);
      } else if (!this.net.error(f.id, f.code, f.msg))
        this.settle(f.id, undefined, new RemoteFsError(f.code, f.msg, this.pending.get(f.id)?.what ?? 'request'));
    },
    // Log {t:7, level, msg}: the agent's own diagnostics.
    [T.Log]: (f) => this.options.onLog?.(f.level, f.msg),
    // PathInfo {t:10, id, entries}: answer to PathQuery id.
    [T.PathInfo]: (f) => this.settle(f.id, f.entries),
    // Invalidate {t:15, id, name, k?}: entry `name` (null: anything) changed in watched directory id; k: change | rename.
    [T.Invalidate]: (f) => this.watchers.get(f.id)?.(f.name, f.k),
    // FileResp {t:12, id, r | e, m}: answer to FileOp or Watch id (a large read's bytes in pieces).
    [T.FileResp]: (f) => {
      const p = this.pending.get(f.id);
      const r = f.r instanceof Pieces ? (p?.pieces === true ? f.r.parts : f.r.join()) : f.r;
      this.settle(f.id, r, f.e === undefined ? undefined : new RemoteFsError(f.e, f.m ?? f.e, p?.what ?? 'file operation'));
    },
  };

  private dispatch(frame: Frame): void {
    traceFrame('Inbound', this.transport.description, frame);
    if (this.onHello !== undefined && frame.t !== T.Hello) throw new ProtocolError(`${frame.t} before Hello`);
    const handler = this.handlers[frame.t] as ((f: Frame) => void) | undefined;
    if (handler === undefined) throw new ProtocolError(`the agent sent a frame of type ${frame.t}, which only clients send`);
    handler(frame);
  }

  private send(frame: Frame): void {
    if (this.lost !== undefined) return;
    traceFrame('Outbound', this.transport.description, frame);
    this.writer.write(frame);
  }

  private request(
    what: string,
    frame:
      | { t: typeof T.FileOp; op: string; a: readonly unknown[] }
      | { t: typeof T.PathQuery; dirs: readonly string[] }
      | { t: typeof T.Watch; path: Uint8Array },
    id = this.nextId++,
    pieces = false,
  ): Promise<unknown> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    return this.pending.add(id, what, pieces, () => this.send({ ...frame, id } as Frame));
  }

  private settle(id: number, value: unknown, error?: Error): void {
    this.pending.settle(id, value, error);
  }

  get isLost(): boolean {
    return this.lost !== undefined;
  }

  private die(error: Error): void {
    if (this.lost !== undefined) return;
    this.lost = error;
    this.onStartFailure?.(error);
    this.pending.failAll(error);
    for (const proc of this.processes.values()) proc.onLost(error);
    this.processes.clear();
    this.net.lost(error);
    for (const listener of this.watchers.values()) listener(null);
    this.watchers.clear();
    void this.transport.close();
  }

  exec(request: ExecRequest): AgentProcess {
    const proc = new AgentProcess((f) => this.send(f), this.nextId++, request);
    if (this.lost !== undefined) proc.onLost(this.lost);
    else {
      this.processes.set(proc.id, proc);
      this.send(proc.execFrame());
    }
    return proc;
  }

  async watch(dir: Uint8Array, onChange: WatchListener): Promise<RemoteWatch> {
    const id = this.nextId++;
    // Listening before asking: a change may be reported right after the answer.
    this.watchers.set(id, onChange);
    try {
      await this.request('watch', { t: T.Watch, path: dir }, id);
    } catch (err) {
      this.watchers.delete(id);
      throw err;
    }
    return {
      close: () => {
        if (this.watchers.delete(id)) this.send({ t: T.Unwatch, id });
      },
    };
  }

  pathQuery(dirs: readonly string[] = []): Promise<PathEntry[]> {
    return this.request('PATH query', { t: T.PathQuery, dirs }) as Promise<PathEntry[]>;
  }

  info(): RemoteInfo {
    return agentRemoteInfo(this.agentInfo, this.caps);
  }

  connect(to: NetAddress): Promise<Duplex> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    return this.options.net !== undefined ? this.options.net.connectTo(to) : this.net.connect(to);
  }

  listen(at: NetAddress, onConnection: (c: Duplex) => void): Promise<RemoteListener> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    return this.options.net !== undefined ? this.options.net.listenOn(at, onConnection) : this.net.listen(at, onConnection);
  }

  async close(): Promise<void> {
    this.writer.flush();
    this.die(new MproxyError('E_CONNECTION_LOST', `the connection to ${this.transport.description} was closed`));
    await this.transport.close();
  }
}

/**
 * The client end of the agent protocol: one connection multiplexing execs, file operations and
 * PATH queries by id. Every request has a deadline; a lost connection fails everything in
 * flight at once with a clear error instead of leaving callers waiting.
 */
import type { Readable, Writable } from 'node:stream';
import { MproxyError } from '../../util/errors.js';
import { traceFrame } from '../../protocol/describe.js';
import { FrameDecoder, ProtocolError, writeFrame } from '../../protocol/codec.js';
import { Pieces } from '../../protocol/payloads.js';
import { unpackDirEntries, type FileOpArgs, type FileOpName, type FileOpResult } from '../../protocol/file-ops.js';
import { PROTOCOL_VERSION, T, type AgentInfo, type Frame, type FrameOf, type HelloFrame, type PathEntry } from '../../protocol/frames.js';
import { RemoteFsError, type ExecRequest, type RemoteHost, type RemoteInfo, type RemoteWatch, type WatchListener } from '../host.js';
import { AgentProcess } from './process.js';
import { PendingRequests } from './requests.js';

export interface AgentTransport {
  /** The agent's stdout. */
  readonly input: Readable;
  /** The agent's stdin. */
  readonly output: Writable;
  /** Ends the transport (kills the agent / closes the channel). */
  close(): Promise<void>;
  /** Words for messages: "ssh builder@build01", "local agent". */
  readonly description: string;
}

export interface AgentClientOptions {
  /** How long the agent may take to say Hello. */
  readonly startTimeoutMs?: number;
  /** Deadline of each file operation and query. */
  readonly opTimeoutMs?: number;
  readonly onLog?: (level: string, message: string) => void;
}

export class AgentClient implements RemoteHost {
  private nextId = 1;
  private readonly pending: PendingRequests;
  private readonly processes = new Map<number, AgentProcess>();
  private readonly watchers = new Map<number, WatchListener>();
  private lost: Error | undefined;
  private agentInfo: AgentInfo | undefined;
  private caps: readonly string[] = [];

  readonly fs = {
    call: <K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> => {
      const answer = this.request(`file operation ${op}`, { t: T.FileOp, op, a: args }, this.nextId++, op === 'read');
      if (op !== 'readdir') return answer as Promise<FileOpResult<K>>;
      return answer.then((packed) => {
        const entries = unpackDirEntries(packed);
        if (entries === undefined)
          throw new MproxyError('E_PROTOCOL', `the agent on ${this.transport.description} answered readdir with something else`);
        return entries as FileOpResult<K>;
      });
    },
  };

  private constructor(
    private readonly transport: AgentTransport,
    private readonly options: AgentClientOptions,
  ) {
    this.pending = new PendingRequests(options.opTimeoutMs ?? 30_000, transport.description);
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
      this.listen();
    });
  }

  private onHello: ((hello: HelloFrame) => void) | undefined;
  private onStartFailure: ((error: Error) => void) | undefined;
  private decoder: FrameDecoder | undefined;

  private chatterHint(): string[] {
    const said = this.decoder?.preamble.trim() ?? '';
    return said === '' ? ['check that node >= 18 runs on the remote'] : [`the remote printed instead:\n${said.slice(0, 2000)}`];
  }

  private listen(): void {
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
    // Data {t:2, id, s, d}: output of process id on stream s.
    [T.Data]: (f) => this.processes.get(f.id)?.onData(f.s, f.d),
    // Eof {t:3, id, s}: stream s of process id has ended.
    [T.Eof]: (f) => this.processes.get(f.id)?.onEof(f.s),
    // Ack {t:16, id, s, n}: the process consumed n bytes of our input on stream s.
    [T.Ack]: (f) => this.processes.get(f.id)?.onAck(f.s, f.n),
    // Exit {t:5, id, code, sig}: process id is finished and its output drained.
    [T.Exit]: (f) => {
      this.processes.get(f.id)?.onExit({ code: f.code, signal: f.sig });
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
      } else this.settle(f.id, undefined, new RemoteFsError(f.code, f.msg, this.pending.get(f.id)?.what ?? 'request'));
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
    writeFrame(this.transport.output, frame);
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
    for (const listener of this.watchers.values()) listener(null);
    this.watchers.clear();
    void this.transport.close();
  }

  exec(request: ExecRequest): AgentProcess {
    const id = this.nextId++;
    const proc = new AgentProcess((f) => this.send(f), id, request);
    if (this.lost !== undefined) {
      proc.onLost(this.lost);
      return proc;
    }
    this.processes.set(id, proc);
    this.send({
      t: T.Exec,
      id,
      argv: request.argv,
      env: request.env,
      cwd: request.cwd,
      fds: request.fds ?? [],
      ...(request.fdModes !== undefined ? { fdModes: request.fdModes } : {}),
      ...(request.pty !== undefined ? { pty: request.pty } : {}),
    });
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
    const i = this.agentInfo;
    return {
      tier: 'agent',
      platform: i?.platform ?? 'unknown',
      arch: i?.arch ?? 'unknown',
      home: i?.home ?? '/',
      user: i?.user ?? '',
      path: i?.path ?? '/usr/local/bin:/usr/bin:/bin',
      shell: i?.shell ?? '/bin/sh',
      capabilities: this.caps,
      ...(typeof i?.uid === 'number' && typeof i.gid === 'number' ? { uid: i.uid, gid: i.gid } : {}),
      limitations: this.caps.includes('pty')
        ? []
        : [{ feature: 'pty', why: `no pty helper runs there (the one built here is for ${process.platform} ${process.arch})` }],
    };
  }

  async close(): Promise<void> {
    this.die(new MproxyError('E_CONNECTION_LOST', `the connection to ${this.transport.description} was closed`));
    await this.transport.close();
  }
}

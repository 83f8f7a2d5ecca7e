/** A process on the remote, as the agent client sees it: streams by number and one exit status. */
import { MproxyError } from '../../util/errors.js';
import { type Frame, T } from '../../protocol/frames.js';
import type { ExecRequest, ExitStatus, RemoteProcess } from '../host.js';
import { RemoteInput, RemoteOutput, type Send } from './streams.js';

/** Spawn failures reported by the agent, in shell terms (126: not executable, 127: not found). */
const SPAWN_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'command not found',
  EACCES: 'permission denied',
  ENOEXEC: 'not an executable format',
};

export class AgentProcess implements RemoteProcess {
  readonly stdin: RemoteInput;
  readonly stdout: RemoteOutput;
  readonly stderr: RemoteOutput;
  readonly fds = new Map<number, { input: RemoteInput; output: RemoteOutput }>();
  readonly exited: Promise<ExitStatus>;
  private settle!: { resolve: (s: ExitStatus) => void; reject: (e: Error) => void };
  private done = false;

  constructor(
    private readonly send: Send,
    readonly id: number,
    readonly request: ExecRequest,
  ) {
    this.stdin = new RemoteInput(send, id, 0);
    this.stdout = new RemoteOutput(send, id, 1);
    this.stderr = new RemoteOutput(send, id, 2);
    for (const fd of request.fds ?? []) this.fds.set(fd, { input: new RemoteInput(send, id, fd), output: new RemoteOutput(send, id, fd) });
    this.exited = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody may be waiting yet; a rejection is still delivered to whoever awaits it later.
    this.exited.catch(() => undefined);
  }

  /** The Exec frame that starts this process. */
  execFrame(): Frame {
    const r = this.request;
    return {
      t: T.Exec,
      id: this.id,
      argv: r.argv,
      env: r.env,
      cwd: r.cwd,
      fds: r.fds ?? [],
      ...(r.fdModes !== undefined ? { fdModes: r.fdModes } : {}),
      ...(r.pty !== undefined ? { pty: r.pty } : {}),
      ...(r.joins !== undefined && r.joins.length > 0 ? { joins: r.joins } : {}),
      ...(r.files !== undefined && r.files.length > 0 ? { files: r.files } : {}),
    };
  }

  private output(s: number): RemoteOutput | undefined {
    return s === 1 ? this.stdout : s === 2 ? this.stderr : this.fds.get(s)?.output;
  }

  private input(s: number): RemoteInput | undefined {
    return s === 0 ? this.stdin : this.fds.get(s)?.input;
  }

  onData(s: number, d: Uint8Array): void {
    this.output(s)?.deliver(d);
  }

  onEof(s: number): void {
    this.output(s)?.finish();
  }

  onAck(s: number, n: number): void {
    this.input(s)?.acknowledge(n);
  }

  onExit(status: ExitStatus): void {
    this.end();
    this.settle.resolve(status);
  }

  onError(code: string, message: string): void {
    this.end();
    const why = SPAWN_ERRORS[code];
    const argv0 = this.request.argv[0] ?? '';
    if (code === 'E_NO_PTY') {
      this.settle.reject(
        new MproxyError('E_EXEC', `cannot run ${argv0} on a terminal: ${message}`, {
          hint: 'run it without a terminal (stdin not a TTY), or build mproxy where a C compiler exists so the pty helper is made',
        }),
      );
      return;
    }
    if (code === 'E_NO_CWD') {
      this.settle.reject(
        new MproxyError('E_EXEC', `cannot run ${argv0}: the ${message} on the remote`, {
          hint: 'create it, or check the first [[mounts]] entry',
        }),
      );
      return;
    }
    const kind =
      code === 'ENOENT' ? 'E_COMMAND_NOT_FOUND' : code === 'EACCES' || code === 'ENOEXEC' ? 'E_COMMAND_NOT_EXECUTABLE' : 'E_EXEC';
    this.settle.reject(new MproxyError(kind, why !== undefined ? `${argv0}: ${why}` : `${argv0}: ${message}`, { cause: message }));
  }

  /** The connection is gone. */
  onLost(error: Error): void {
    if (this.done) return;
    this.end();
    this.settle.reject(error);
  }

  signal(name: string): void {
    if (!this.done) this.send({ t: T.Signal, id: this.id, sig: name });
  }

  resize(cols: number, rows: number): void {
    if (!this.done && this.request.pty !== undefined) this.send({ t: T.Resize, id: this.id, cols, rows });
  }

  private end(): void {
    this.done = true;
    for (const out of [this.stdout, this.stderr, ...[...this.fds.values()].map((f) => f.output)]) if (!out.readableEnded) out.finish();
    for (const inp of [this.stdin, ...[...this.fds.values()].map((f) => f.input)]) inp.abandon();
  }
}

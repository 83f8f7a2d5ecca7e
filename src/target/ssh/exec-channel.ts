/**
 * Running a POSIX sh script over an SSH exec channel, whatever the user's login shell: sshd hands
 * the command to that shell, so it is wrapped as `exec /bin/sh -c '…'` — syntax that bash, zsh,
 * fish and csh all read the same way. Scripts must not contain single quotes.
 */
import type { PtyRequest } from '../../protocol/frames.js';
import type { SshClient as Client, ClientChannel } from './ssh2.js';
import { scriptDeadline, withTimeout } from '../../util/deadline.js';
import { MproxyError } from '../../util/errors.js';

export function shWrapped(script: string): string {
  if (script.includes("'")) throw new Error('internal: sh scripts sent over ssh may not contain single quotes');
  return `exec /bin/sh -c '${script}'`;
}

export function openExec(client: Client, command: string, description: string, pty?: PtyRequest): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const options = pty !== undefined ? { pty: { rows: pty.rows, cols: pty.cols, width: 0, height: 0, term: pty.term || 'xterm' } } : {};
    client.exec(command, options, (err, channel) => {
      if (err !== undefined && err !== null) {
        reject(
          new MproxyError('E_CONNECTION_LOST', `${description} refused a new session: ${err.message}`, {
            hint: 'the server may limit sessions per connection (MaxSessions)',
            cause: err,
          }),
        );
      } else resolve(channel);
    });
  });
}

export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Feeds `input` to an exec channel and collects its exit code and output once it closes. */
export function collectChannel(
  channel: ClientChannel,
  input?: Uint8Array,
): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let code: number | null = null;
    channel.on('data', (d: Buffer) => out.push(d));
    channel.stderr.on('data', (d: Buffer) => err.push(d));
    channel.on('exit', (c: number | null) => (code = c));
    channel.on('close', () => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    channel.end(input);
  });
}

/**
 * `collectChannel` under a deadline: a remote that does not finish in time (a login script
 * waiting for input, a stalled server) has its channel closed and is named in an E_TIMEOUT.
 */
export async function collectWithin(
  channel: ClientChannel,
  input: Uint8Array | undefined,
  ms: number,
  what: string,
): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  return withTimeout(
    collectChannel(channel, input),
    ms,
    () =>
      new MproxyError('E_TIMEOUT', `${what} did not finish within ${(ms / 1000).toFixed(0)}s`, {
        hint: ['does a login script on the remote wait for input, or is the server overloaded?', 'target.op_timeout sets this deadline'],
      }),
    () => channel.close(),
  );
}

/** Run a short script, feeding `input`, and collect its output; within `timeoutMs` (plus time for the input). */
export async function runScript(
  client: Client,
  script: string,
  description: string,
  timeoutMs: number,
  input?: Buffer,
): Promise<ScriptResult> {
  const channel = await withTimeout(
    openExec(client, shWrapped(script), description),
    timeoutMs,
    () => new MproxyError('E_TIMEOUT', `${description} did not open a session within ${timeoutMs / 1000}s`),
  );
  const r = await collectWithin(channel, input, scriptDeadline(timeoutMs, input), `a shell command on ${description}`);
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

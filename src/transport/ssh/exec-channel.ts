/**
 * Running a POSIX sh script over an SSH exec channel, whatever the user's login shell: sshd hands
 * the command line to that shell, so it is `exec /bin/sh -c '…'` — syntax that bash, zsh, fish
 * and csh all read the same way. A script with single quotes travels either as the first bytes
 * of stdin, read with `dd` one byte at a time so the process's own stdin is left untouched after
 * it, or — on a pty, where stdin is a terminal that would echo it — inside the command line,
 * every byte octal-escaped so no shell's quoting rules can touch it.
 */
import type { PtyRequest } from '../../protocol/frames.js';
import type { ExecChannel, ExitStatus } from '../transport.js';
import type { SshClient as Client, ClientChannel } from './ssh2.js';
import { withTimeout } from '../../util/deadline.js';
import { MproxyError } from '../../util/errors.js';

/** The command line sshd gets for `script`, and the bytes to send on stdin before the caller's. */
export interface LoginCommand {
  readonly command: string;
  readonly preamble?: Buffer;
}

export function loginCommand(script: string, pty: boolean): LoginCommand {
  if (!script.includes("'")) return { command: `exec /bin/sh -c '${script}'` };
  if (pty) return { command: octalCommand(script) };
  const preamble = Buffer.from(script);
  return { command: `exec /bin/sh -c 'eval "$(dd bs=1 count=${preamble.length} 2>/dev/null)"'`, preamble };
}

/** A command line that runs `script` under /bin/sh whatever the login shell, stdin left free. */
export function octalCommand(script: string): string {
  return `exec /bin/sh -c 'eval "$(printf %b "${octalEscaped(script)}")"'`;
}

/** Every byte as a `\0ooo` escape for `printf %b`: a script any login shell passes through untouched. */
export function octalEscaped(script: string): string {
  return [...Buffer.from(script)].map((b) => `\\0${b.toString(8).padStart(3, '0')}`).join('');
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

/** An ssh2 channel as the seam's ExecChannel; its exit status once it has closed. */
export function execChannel(channel: ClientChannel, preamble?: Buffer): ExecChannel {
  const status = new Promise<ExitStatus | null>((resolve) => {
    let got: ExitStatus | null = null;
    channel.on('exit', (code: number | null, signal?: string) => {
      got =
        code !== null && code !== undefined
          ? { code, signal: null }
          : { code: null, signal: signal === undefined ? null : signal.startsWith('SIG') ? signal : `SIG${signal}` };
    });
    channel.on('close', () => resolve(got));
  });
  if (preamble !== undefined) channel.write(preamble);
  return {
    stdin: channel,
    stdout: channel,
    stderr: channel.stderr,
    status,
    resize: (cols, rows) => channel.setWindow(rows, cols, 0, 0),
    close: () => channel.close(),
  };
}

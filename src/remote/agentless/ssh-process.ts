/**
 * The SSH transport of agentless processes: one exec channel each. The command line sshd hands
 * to the login shell is fixed and shell-neutral; the real work (script.ts) travels either as
 * the first bytes of stdin, read with `dd` one byte at a time so the process's own stdin is left
 * untouched after it, or — on a pty, where stdin is a terminal that would echo it — inside the
 * command line, every byte octal-escaped so no shell's quoting rules can touch it.
 */
import type { ClientChannel } from '../../target/ssh/ssh2.js';
import type { ExecRequest, ExitStatus } from '../host.js';
import type { ExecTransport } from './process.js';
import { execScript, octalEscaped } from './script.js';

export interface SshBoot {
  readonly command: string;
  readonly preamble?: Buffer;
}

/** A command line that runs `script` under /bin/sh whatever the login shell, stdin left free. */
export function octalCommand(script: string): string {
  return `exec /bin/sh -c 'eval "$(printf %b "${octalEscaped(script)}")"'`;
}

export function sshBoot(request: ExecRequest): SshBoot {
  const pty = request.pty !== undefined;
  const script = execScript(request, { pty });
  if (pty) return { command: octalCommand(script) };
  const preamble = Buffer.from(script);
  return { command: `exec /bin/sh -c 'eval "$(dd bs=1 count=${preamble.length} 2>/dev/null)"'`, preamble };
}

export function sshTransport(channel: ClientChannel): ExecTransport {
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
  return {
    stdin: channel,
    stdout: channel,
    stderr: channel.stderr,
    status,
    resize: (cols, rows) => channel.setWindow(rows, cols, 0, 0),
  };
}

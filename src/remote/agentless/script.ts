/**
 * The POSIX sh that starts one process for the agentless tier, whatever carries it (an SSH exec
 * channel, a Docker exec): it prints a start marker carrying its pid (signals then go to that
 * process group), changes to the cwd, checks the command exists, and execs it with exactly the
 * given environment. Spawn failures are reported with markers instead of the shell's own words.
 */
import type { ExecRequest } from '../host.js';

/** Printed first thing (stdout, and stderr unless on a pty): what precedes it is a login shell talking. */
export const START = '\u0000mproxy:start';
export const SPAWN_MARKERS = {
  enoent: '\u0000mproxy:enoent',
  nocwd: '\u0000mproxy:nocwd',
  eacces: '\u0000mproxy:eacces',
} as const;
export type SpawnFailure = keyof typeof SPAWN_MARKERS;

/** `'…'` for POSIX sh: any bytes but NUL. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The login's identity and PATH as the probe (host.ts) would have read them, for `ExecRequest.login`. */
const LOGIN_ENV = 'HOME="$HOME" USER="$u" LOGNAME="$u" SHELL="${SHELL:-/bin/sh}" PATH="$PATH"';

/** `~` and `~/…` under the remote's $HOME, as sh words; any other path as it is. */
function underHome(cwd: string): string {
  if (cwd === '~') return '"$HOME"';
  return cwd.startsWith('~/') ? `"$HOME"/${shQuote(cwd.slice(2))}` : shQuote(cwd);
}

/**
 * The script. On a pty stdout and stderr are one terminal, so the markers all go to stdout.
 * sshd and Docker both start an exec as the leader of its own session and process group.
 */
export function execScript(req: ExecRequest, opts: { readonly pty: boolean }): string {
  const [cmd = ''] = req.argv;
  const err = opts.pty ? '' : ' >&2';
  const fail = (m: SpawnFailure, code: number): string => `{ printf '\\000mproxy:${m}\\n'${err}; exit ${code}; }`;
  const path = req.env['PATH'];
  const pathOf = `PATH=${path !== undefined ? shQuote(path) : req.login === true ? '"$PATH"' : shQuote('/usr/bin:/bin')}`;
  // env sets its assignments in order: the given environment overrides the login's own.
  const run = `env -i ${req.login === true ? `${LOGIN_ENV} ` : ''}${Object.entries(req.env)
    .map(([k, v]) => shQuote(`${k}=${v}`))
    .join(' ')} ${req.argv.map(shQuote).join(' ')}`;
  return [
    req.login === true ? ': "${HOME:=/}"; u=$(id -un 2>/dev/null); : "${u:=root}"' : '',
    // Set the size before anything runs: some transports (docker) can only resize after start.
    opts.pty && req.pty !== undefined ? `stty rows ${Math.trunc(req.pty.rows)} cols ${Math.trunc(req.pty.cols)} 2>/dev/null` : '',
    `printf '\\000mproxy:start:%s\\n' $$${opts.pty ? '' : "; printf '\\000mproxy:start\\n' >&2"}`,
    `cd ${req.login === true ? underHome(req.cwd) : shQuote(req.cwd)} 2>/dev/null || ${fail('nocwd', 126)}`,
    cmd.includes('/')
      ? `if [ ! -e ${shQuote(cmd)} ]; then ${fail('enoent', 127)}; elif [ ! -x ${shQuote(cmd)} ] || [ -d ${shQuote(cmd)} ]; then ` +
        `${fail('eacces', 126)}; fi`
      : `(${pathOf}; command -v ${shQuote(cmd)}) >/dev/null 2>&1 || ${fail('enoent', 127)}`,
    `exec ${run}`,
    '',
  ].join('\n');
}

/**
 * Delivers a signal to a process group: the foreground group of the terminal when `pid` leads
 * one (a shell on a pty running a job), else `pid`'s own group, else `pid` alone.
 */
export function killScript(pid: number, signal: string): string | undefined {
  const name = signal.replace(/^SIG/, '');
  if (!/^[A-Z0-9]+$/.test(name) || !Number.isInteger(pid) || pid <= 1) return undefined;
  return [
    `p=${pid}; g=$p`,
    'if [ -r /proc/$p/stat ]; then s=$(cat /proc/$p/stat); s=${s##*) }; set -- $s; [ "$6" -gt 0 ] 2>/dev/null && g=$6; fi',
    `kill -s ${name} -- -$g 2>/dev/null || kill -s ${name} $p 2>/dev/null`,
  ].join('\n');
}

/** Every byte as a `\0ooo` escape for `printf %b`: a script any login shell passes through untouched. */
export function octalEscaped(script: string): string {
  return [...Buffer.from(script)].map((b) => `\\0${b.toString(8).padStart(3, '0')}`).join('');
}

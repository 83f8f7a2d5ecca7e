/**
 * Pseudo-terminals for the agent, through the static helper uploaded beside it (Node cannot
 * make a pty): `mproxy-pty CONTROL-FD ROWS COLS PROGRAM ARGS…` (native/pty/mproxy-pty.c).
 * The helper's stderr carries one status line; window sizes go down the control fd; signals
 * go straight to the terminal's foreground process group, as a keyboard's would.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ExecFrame, PtyRequest } from '../../src/protocol/frames.js';

/** The helper given on the agent's command line, if it is there and executable. */
export function findHelper(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

export interface PtySpawn {
  readonly file: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  /** Where the helper reads window sizes: one fd past the highest the process gets. */
  readonly controlFd: number;
}

export function ptySpawn(helper: string, frame: ExecFrame & { readonly pty: PtyRequest }): PtySpawn {
  const controlFd = Math.max(2, ...frame.fds) + 1;
  const env = { ...frame.env };
  if (env['TERM'] === undefined && frame.pty.term !== '') env['TERM'] = frame.pty.term;
  return { file: helper, args: [String(controlFd), String(frame.pty.rows), String(frame.pty.cols), ...frame.argv], env, controlFd };
}

export type PtyStatus = { readonly ok: true; readonly pid: number } | { readonly ok: false; readonly errno: string };

/** The helper's status line, once a whole one has arrived. */
export function parseStatus(text: string): PtyStatus | undefined {
  const eol = text.indexOf('\n');
  if (eol < 0) return undefined;
  const [word = '', arg = ''] = text.slice(0, eol).split(' ');
  if (word === 'ok' && /^\d+$/.test(arg)) return { ok: true, pid: Number(arg) };
  return { ok: false, errno: word === 'err' && /^E[A-Z0-9]+$/.test(arg) ? arg : 'EIO' };
}

/** The foreground process group of the terminal `leader` leads (its own group if unknown). */
export function foregroundGroup(leader: number): number {
  try {
    const stat = readFileSync(`/proc/${leader}/stat`, 'latin1');
    // pid (comm) state ppid pgrp session tty_nr tpgid …; comm may hold spaces and parentheses.
    const tpgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
    if (Number.isInteger(tpgid) && tpgid > 0) return tpgid;
  } catch {
    // Gone, or no /proc: its own group is the best guess.
  }
  return leader;
}

export function sendSize(control: Writable | undefined, cols: number, rows: number): void {
  if (control !== undefined && !control.writableEnded && cols > 0 && rows > 0) control.write(`${rows} ${cols}\n`);
}

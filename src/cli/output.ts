/** How the CLI words things on stderr: located diagnostics and plain errors, each with hints. */
import type { Diagnostic } from '../profile/diagnostics.js';
import { isMproxyError, messageOf, type MproxyError } from '../util/errors.js';
import { exitCodeFor } from './exit-codes.js';

const LONGEST = 80;

/** A key or value quoted in a message, cut in the middle when it would flood the terminal. */
export function shorten(text: string): string {
  return text.replace(
    new RegExp(`\`([^\`\\n]{${LONGEST + 1},})\``, 'g'),
    (_, inner: string) => `\`${cut(inner)}\` (${inner.length} characters)`,
  );
}

function cut(text: string): string {
  return `${text.slice(0, 50)}…${text.slice(-20)}`;
}

/** `FILE:LINE:COL: error: KEY.PATH: message` then indented `hint:` lines. */
export function formatDiagnostic(d: Diagnostic): string {
  const path = d.path === '' ? '' : `${d.path.length > LONGEST ? cut(d.path) : d.path}: `;
  const lines = [`${d.file}:${d.line}:${d.column}: ${d.severity}: ${path}${shorten(d.message)}`];
  for (const hint of d.hints) lines.push(...indentHint(shorten(hint)));
  return lines.join('\n');
}

/** `mproxy: error: message`, or located like a profile diagnostic when the error names a profile key. */
export function formatError(err: MproxyError): string {
  const first =
    err.location !== undefined ? `${err.location.at}: error: ${err.location.path}: ${err.message}` : `mproxy: error: ${err.message}`;
  return [first, ...err.hints.flatMap(indentHint)].join('\n');
}

function indentHint(hint: string): string[] {
  const [first = '', ...more] = hint.split('\n');
  return [`  hint: ${first}`, ...more.map((l) => `        ${l}`)];
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A failure as the user reads it (with the stack when `debug`), and the exit status it gives
 * for a command whose own failures exit `failureExit`.
 */
export function describeFailure(err: unknown, failureExit: number, debug = false): { status: number; text: string } {
  if (isMproxyError(err)) {
    const stack = debug ? `\n${err.stack ?? ''}${err.cause !== undefined ? `\ncause: ${String(err.cause)}` : ''}` : '';
    return { status: exitCodeFor(err.code, failureExit), text: `${formatError(err)}${stack}\n` };
  }
  const trace =
    debug && err instanceof Error ? `${err.stack ?? ''}\n` : '  hint: this is a bug in mproxy; re-run with --debug and report the output\n';
  return { status: failureExit, text: `mproxy: internal error: ${messageOf(err)}\n${trace}` };
}

/** How the CLI words things on stderr: located diagnostics and plain errors, each with hints. */
import type { Diagnostic } from '../profile/diagnostics.js';
import type { MproxyError } from '../util/errors.js';

/** `FILE:LINE:COL: error: KEY.PATH: message` then indented `hint:` lines. */
export function formatDiagnostic(d: Diagnostic): string {
  const path = d.path === '' ? '' : `${d.path}: `;
  const lines = [`${d.file}:${d.line}:${d.column}: ${d.severity}: ${path}${d.message}`];
  for (const hint of d.hints) lines.push(...indentHint(hint));
  return lines.join('\n');
}

export function formatError(err: MproxyError): string {
  return [`mproxy: error: ${err.message}`, ...err.hints.flatMap(indentHint)].join('\n');
}

function indentHint(hint: string): string[] {
  const [first = '', ...more] = hint.split('\n');
  return [`  hint: ${first}`, ...more.map((l) => `        ${l}`)];
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

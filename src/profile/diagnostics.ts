/**
 * A problem found in a profile, located in the file the offending value came from, and the
 * origin bookkeeping that makes that possible: every node of a merged profile remembers the
 * layer (file and position, built-in default, or command-line flag) that set it.
 */
import type { LocationMap, Span } from './toml-locate.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted key path as a user writes it: `mounts[0].local`, `env.set."A.B"`. */
  readonly path: string;
  readonly message: string;
  readonly hints: readonly string[];
  readonly severity: Severity;
}

export type Origin =
  | { readonly kind: 'file'; readonly file: string; readonly key?: Span; readonly value?: Span; readonly env?: readonly string[] }
  | { readonly kind: 'default' }
  | { readonly kind: 'flag'; readonly flag: string };

/** One source of settings, before merging. */
export interface Layer {
  readonly origin:
    | { readonly kind: 'file'; readonly file: string; readonly locations: LocationMap }
    | { readonly kind: 'default' }
    | { readonly kind: 'flag'; readonly flag: string };
  readonly data: Record<string, unknown>;
  /** JSON pointer → environment variables interpolated into the string there. */
  readonly envUsed: ReadonlyMap<string, readonly string[]>;
}

/** A problem not yet located: a pointer into the merged profile. */
export interface Finding {
  readonly pointer: string;
  readonly message: string;
  readonly hints?: readonly string[];
  /** Point at the key (unknown keys, missing children) rather than at the value. */
  readonly at?: 'key' | 'value';
  readonly severity?: Severity;
}

export function splitPointer(ptr: string): string[] {
  if (ptr === '') return [];
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function dottedPath(ptr: string): string {
  let out = '';
  for (const segment of splitPointer(ptr)) {
    if (/^[0-9]+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += (out === '' ? '' : '.') + segment;
    else out += (out === '' ? '' : '.') + JSON.stringify(segment);
  }
  return out === '' ? '(top level)' : out;
}

/**
 * Locate a finding: the origin of its pointer, or of the nearest ancestor that has one. A
 * value set by a default or a flag is reported against `fallbackFile` (the profile itself).
 */
export function locate(finding: Finding, origins: ReadonlyMap<string, Origin>, fallbackFile: string): Diagnostic {
  let ptr = finding.pointer;
  let origin = origins.get(ptr);
  while (origin === undefined && ptr !== '') {
    ptr = ptr.slice(0, ptr.lastIndexOf('/'));
    origin = origins.get(ptr);
  }
  let file = fallbackFile;
  let span: Span = { line: 1, column: 1 };
  const hints = [...(finding.hints ?? [])];
  if (origin?.kind === 'file') {
    file = origin.file;
    span = (finding.at === 'key' ? (origin.key ?? origin.value) : (origin.value ?? origin.key)) ?? span;
    if (origin.env !== undefined && origin.env.length > 0) hints.push(`the value came from \${env:${origin.env.join('}, ${env:')}}`);
  } else if (origin?.kind === 'flag') {
    hints.push(`the value came from the command-line flag ${origin.flag}`);
  }
  return {
    file,
    line: span.line,
    column: span.column,
    path: dottedPath(finding.pointer),
    message: finding.message,
    hints,
    severity: finding.severity ?? 'error',
  };
}

export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

export function describeOrigin(origin: Origin | undefined): string {
  if (origin === undefined || origin.kind === 'default') return 'default';
  if (origin.kind === 'flag') return `flag ${origin.flag}`;
  const span = origin.value ?? origin.key;
  const where = span === undefined ? origin.file : `${origin.file}:${span.line}`;
  return origin.env !== undefined && origin.env.length > 0 ? `${where} (env:${origin.env.join(', env:')})` : where;
}

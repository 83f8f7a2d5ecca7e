/**
 * One TOML file from disk to a Layer: size and encoding checks, smol-toml parsing with the
 * syntax error located, positions of every key, `${env:…}` interpolation.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { formatBytes } from '../util/units.js';
import { messageOf } from '../util/errors.js';
import type { Diagnostic, Finding, Layer } from './diagnostics.js';
import { dottedPath } from './diagnostics.js';
import { interpolate } from './interpolate.js';
import { keyDefinedOn, locateToml, pointer } from './toml-locate.js';

/** Profiles are small; a larger file is a mistake (a log, a binary) and is refused unread. */
export const MAX_PROFILE_BYTES = 1024 * 1024;

/** A layer with its not-yet-located findings (unset variables), or why there is none. */
export type ReadResult =
  | { readonly layer: Layer; readonly findings: readonly Finding[] }
  | { readonly layer?: undefined; readonly diagnostics: readonly Diagnostic[] };

function problem(file: string, line: number, column: number, message: string, hints: string[] = []): Diagnostic {
  return { file, line, column, path: '', message, hints, severity: 'error' };
}

/** Read and parse `file`; `displayName` is how the file is named in messages. */
export function readLayer(file: string, displayName: string, env: NodeJS.ProcessEnv): ReadResult {
  let bytes: Buffer;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) return { diagnostics: [problem(displayName, 1, 1, 'is a directory, not a profile file')] };
    if (stat.size > MAX_PROFILE_BYTES) {
      return {
        diagnostics: [
          problem(displayName, 1, 1, `file is ${formatBytes(stat.size)}; a profile may be at most ${formatBytes(MAX_PROFILE_BYTES)}`, [
            'is this the right file? profiles are short TOML documents',
          ]),
        ],
      };
    }
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : messageOf(err);
    return { diagnostics: [problem(displayName, 1, 1, `cannot read: ${why}`)] };
  }
  const decoded = decodeText(bytes, displayName);
  if (typeof decoded !== 'string') return { diagnostics: [decoded] };

  let data: Record<string, unknown>;
  try {
    data = parse(decoded) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    return { diagnostics: [syntaxDiagnostic(err, decoded, displayName)] };
  }
  const locations = locateToml(decoded);
  const origin = { kind: 'file', file: displayName, locations } as const;
  const { value, envUsed, findings } = interpolate(data, env);
  return { layer: { origin, data: value, envUsed }, findings };
}

/** UTF-8 text, or a located complaint about the first byte that makes it binary. */
function decodeText(bytes: Buffer, file: string): string | Diagnostic {
  const nul = bytes.indexOf(0);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    text = '';
  }
  if (nul >= 0 || (text === '' && bytes.length > 0)) {
    const bad = nul >= 0 ? nul : firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, bad).toString('utf8');
    const line = before.split('\n').length;
    const column = bad - bytes.lastIndexOf(0x0a, bad - 1);
    return problem(
      file,
      line,
      column,
      nul >= 0 ? 'binary data (a NUL byte): this is not a TOML file' : 'not valid UTF-8: TOML files must be UTF-8 text',
      ['profiles are UTF-8 TOML text; check that the path names the profile'],
    );
  }
  return text;
}

function firstInvalidUtf8(bytes: Buffer): number {
  let lo = 0;
  let hi = bytes.length;
  // Binary search on the longest valid prefix; `stream` lets a prefix end inside a sequence.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

function syntaxDiagnostic(err: TomlError, text: string, file: string): Diagnostic {
  const message = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
  const hints: string[] = [];
  let path = '';
  if (/redefine/.test(message)) {
    hints.push('each key and table may be defined once; merge the two definitions');
    const key = keyDefinedOn(text.split('\n').slice(0, err.line).join('\n'), err.line);
    if (key !== undefined) path = dottedPath(pointer(key));
  } else if (/unfinished string/.test(message)) {
    hints.push('close the string with the same quote it opened with');
  } else if (/illegal character in key|invalid key/.test(message)) {
    const alike = lookAlike(text.split('\n')[err.line - 1] ?? '');
    if (alike !== undefined) {
      return {
        file,
        line: err.line,
        column: err.column,
        path,
        message: `TOML syntax: ${message}: \`${alike.key}\` has ${alike.described}`,
        hints: [`did you mean \`${alike.ascii}\`?`],
        severity: 'error',
      };
    }
    hints.push('write `key = value`; keys with spaces or dots need quotes');
  }
  return { file, line: err.line, column: err.column, path, message: `TOML syntax: ${message}`, hints, severity: 'error' };
}

/** Letters of other scripts that look like Latin ones (a key pasted from a chat, a keyboard layout left on). */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  а: 'a',
  в: 'b',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  τ: 't',
  υ: 'u',
  χ: 'x',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Χ: 'X',
  Υ: 'Y',
  Ζ: 'Z',
};

/** The key on `line` when a letter of it only looks Latin: which letter, and the key it was meant to be. */
function lookAlike(line: string): { key: string; described: string; ascii: string } | undefined {
  const key = (line.split('=')[0] ?? '').trim().replace(/^\[+|\]+$/g, '');
  const odd = [...key].find((c) => LOOK_ALIKES[c] !== undefined);
  if (odd === undefined) return undefined;
  const script = /\p{Script=Cyrillic}/u.test(odd) ? 'Cyrillic' : /\p{Script=Greek}/u.test(odd) ? 'Greek' : 'another script';
  const code = `U+${(odd.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return {
    key,
    described: `${odd} (${code}, ${script}), which only looks like the Latin ${LOOK_ALIKES[odd] ?? ''}`,
    ascii: [...key].map((c) => LOOK_ALIKES[c] ?? c).join(''),
  };
}

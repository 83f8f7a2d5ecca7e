/**
 * One line per frame for `--debug` (like ssh2's debug output): the frame's name, then its fields,
 * a stream's bytes as their length (a file operation's short printable path as text), long
 * strings and lists cut, and an environment as its size only, so a trace never carries what was
 * typed or a secret's value.
 */
import { traceSink } from '../util/trace.js';
import { T, type Frame } from './frames.js';
import { Pieces } from './payloads.js';

const NAMES = new Map<number, string>(Object.entries(T).map(([name, t]) => [t, name]));
const PRINTABLE = /^[\x20-\x7e]*$/;
const MAX_TEXT = 80;
const MAX_ITEMS = 6;

function bytes(b: Uint8Array): string {
  const text = b.length <= MAX_TEXT ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1') : '';
  return b.length > 0 && text !== '' && PRINTABLE.test(text) ? JSON.stringify(text) : `<${b.length} bytes>`;
}

function value(v: unknown, depth: number): string {
  if (v instanceof Uint8Array) return bytes(v);
  if (v instanceof Pieces) return `<${v.parts.reduce((n, p) => n + p.length, 0)} bytes in ${v.parts.length} pieces>`;
  if (typeof v === 'string') return JSON.stringify(v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT)}…` : v);
  if (Array.isArray(v)) {
    if (depth > 1) return `[${v.length} items]`;
    const shown = v.slice(0, MAX_ITEMS).map((x) => value(x, depth + 1));
    return `[${shown.join(', ')}${v.length > MAX_ITEMS ? `, … ${v.length} in all` : ''}]`;
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (depth > 1) return `{${entries.length} keys}`;
    return `{${entries.map(([k, x]) => `${k}: ${value(x, depth + 1)}`).join(', ')}}`;
  }
  return String(v);
}

export function describeFrame(frame: Frame): string {
  const fields = Object.entries(frame)
    .filter(([k]) => k !== 't')
    .map(([k, v]) => {
      if (k === 'env' && v !== null && typeof v === 'object') return `env={${Object.keys(v).length} variables}`;
      // A stream's bytes (typed passwords among them) only ever as their length.
      if (k === 'd' && v instanceof Uint8Array) return `d=<${v.length} bytes>`;
      return `${k}=${value(v, 0)}`;
    });
  return [NAMES.get(frame.t) ?? `type ${frame.t}`, ...fields].join(' ');
}

/** The trace line of a frame going `direction` on the connection to `where`; nothing is formatted while tracing is off. */
export function traceFrame(direction: 'Inbound' | 'Outbound', where: string, frame: Frame): void {
  traceSink()?.(`${direction}: ${where}: ${describeFrame(frame)}`);
}

/**
 * Host key verification as OpenSSH does it: ~/.ssh/known_hosts (and the system file), plain,
 * `[host]:port` and hashed `|1|salt|hash` entries, `@revoked` markers. A key that differs from
 * the recorded one is refused under every policy, naming the file and line to fix.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { globRegex } from './ssh-config.js';

export interface HostKey {
  readonly type: string;
  /** The key blob in SSH wire format, as known_hosts stores it (base64). */
  readonly blob: Buffer;
}

export type Verdict =
  | { readonly kind: 'known'; readonly file: string; readonly line: number }
  | { readonly kind: 'unknown'; readonly otherTypes: readonly string[] }
  | { readonly kind: 'changed'; readonly file: string; readonly line: number; readonly recordedType: string }
  | { readonly kind: 'revoked'; readonly file: string; readonly line: number };

/** How known_hosts names a host: `host` on port 22, `[host]:port` otherwise. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** Does a known_hosts host field (comma-separated, maybe hashed, maybe negated) name `name`? */
export function hostFieldMatches(field: string, name: string): boolean {
  let matched = false;
  for (const entry of field.split(',')) {
    if (entry.startsWith('|1|')) {
      const [, , salt = '', hash = ''] = entry.split('|');
      const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
      if (digest === hash) matched = true;
    } else if (entry.startsWith('!')) {
      if (globRegex(entry.slice(1)).test(name)) return false;
    } else if (globRegex(entry).test(name)) matched = true;
  }
  return matched;
}

interface Entry {
  readonly file: string;
  readonly line: number;
  readonly marker: string | undefined;
  readonly type: string;
  readonly data: string;
}

/** The lines of every file whose host field names `name`, in order. */
function entriesFor(files: readonly string[], name: string): Entry[] {
  const out: Entry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      const marker = fields[0]?.startsWith('@') === true ? fields.shift() : undefined;
      const [hosts = '', type = '', data = ''] = fields;
      if (marker === '@cert-authority' || !hostFieldMatches(hosts, name)) continue;
      out.push({ file, line: i + 1, marker, type, data });
    }
  }
  return out;
}

/**
 * OpenSSH's order: a key marked `@revoked` in any file is refused before any line may accept
 * it; then the first line holding the key; then a line holding another key of the same type.
 * Host names are compared lower-cased, as ssh does (hashed entries hash the lower-cased name).
 */
export function verifyHostKey(files: readonly string[], host: string, port: number, key: HostKey): Verdict {
  const entries = entriesFor(files, hostPattern(host.toLowerCase(), port));
  const data = key.blob.toString('base64');
  const same = (e: Entry): boolean => e.type === key.type && e.data === data;
  const revoked = entries.find((e) => e.marker === '@revoked' && same(e));
  if (revoked !== undefined) return { kind: 'revoked', file: revoked.file, line: revoked.line };
  const plain = entries.filter((e) => e.marker === undefined);
  const known = plain.find(same);
  if (known !== undefined) return { kind: 'known', file: known.file, line: known.line };
  const changed = plain.find((e) => e.type === key.type);
  if (changed !== undefined) return { kind: 'changed', file: changed.file, line: changed.line, recordedType: changed.type };
  return { kind: 'unknown', otherTypes: plain.map((e) => e.type) };
}

/** Record a newly accepted host key, as OpenSSH's accept-new does. */
export function recordHostKey(file: string, host: string, port: number, key: HostKey): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const exists = existsSync(file);
  const text = exists ? readFileSync(file, 'utf8') : '';
  const lead = text === '' || text.endsWith('\n') ? '' : '\n';
  appendFileSync(file, `${lead}${hostPattern(host.toLowerCase(), port)} ${key.type} ${key.blob.toString('base64')}\n`, { mode: 0o600 });
  if (!exists) chmodSync(file, 0o600);
}

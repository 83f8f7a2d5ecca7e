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
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
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

export function verifyHostKey(files: readonly string[], host: string, port: number, key: HostKey): Verdict {
  const name = hostPattern(host, port);
  const otherTypes: string[] = [];
  let changed: Verdict | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (const [i, raw] of lines.entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      const marker = fields[0]?.startsWith('@') === true ? fields.shift() : undefined;
      const [hosts = '', type = '', data = ''] = fields;
      if (marker === '@cert-authority' || !hostFieldMatches(hosts, name)) continue;
      const same = type === key.type && data === key.blob.toString('base64');
      if (marker === '@revoked') {
        if (same) return { kind: 'revoked', file, line: i + 1 };
        continue;
      }
      if (same) return { kind: 'known', file, line: i + 1 };
      if (type === key.type) changed ??= { kind: 'changed', file, line: i + 1, recordedType: type };
      else otherTypes.push(type);
    }
  }
  return changed ?? { kind: 'unknown', otherTypes };
}

/** Record a newly accepted host key, as OpenSSH's accept-new does. */
export function recordHostKey(file: string, host: string, port: number, key: HostKey): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const exists = existsSync(file);
  const text = exists ? readFileSync(file, 'utf8') : '';
  const lead = text === '' || text.endsWith('\n') ? '' : '\n';
  appendFileSync(file, `${lead}${hostPattern(host, port)} ${key.type} ${key.blob.toString('base64')}\n`, { mode: 0o600 });
  if (!exists) chmodSync(file, 0o600);
}

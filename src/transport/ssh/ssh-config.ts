/**
 * The parts of ~/.ssh/config mproxy honours, resolved for one host as OpenSSH does: the first
 * value obtained for a keyword wins (IdentityFile accumulates), `Host` patterns with * ? and !
 * negation, `Include` (relative to ~/.ssh, globs in the last part), `Match all`. Other `Match`
 * blocks are not evaluated and do not apply.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';

export interface SshHostConfig {
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  readonly identityFiles: readonly string[];
  readonly identitiesOnly?: boolean;
  readonly proxyJump?: string;
  readonly serverAliveInterval?: number;
  readonly connectTimeout?: number;
}

export interface SshConfigContext {
  readonly home: string;
  readonly localUser: string;
}

interface Line {
  readonly key: string;
  readonly args: string[];
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

function parseLines(file: string, ctx: SshConfigContext, depth = 0): Line[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (m === null) continue;
    const key = (m[1] ?? '').toLowerCase();
    const args = tokenize(m[2] ?? '');
    if (key === 'include' && depth < 16) {
      for (const pattern of args) for (const f of expandInclude(pattern, ctx)) out.push(...parseLines(f, ctx, depth + 1));
    } else out.push({ key, args });
  }
  return out;
}

function expandInclude(pattern: string, ctx: SshConfigContext): string[] {
  const path = pattern.startsWith('~/')
    ? join(ctx.home, pattern.slice(2))
    : isAbsolute(pattern)
      ? pattern
      : join(ctx.home, '.ssh', pattern);
  const base = basename(path);
  if (!/[*?]/.test(base)) return [path];
  const re = globRegex(base);
  try {
    return readdirSync(dirname(path))
      .filter((f) => re.test(f))
      .sort()
      .map((f) => join(dirname(path), f));
  } catch {
    return [];
  }
}

/** OpenSSH's host wildcards (`*`, `?`), case-insensitive; shared with known_hosts matching. */
export function globRegex(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\[\]]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
}

/** A `Host` line's patterns against a host name: any positive match and no negated one. */
export function hostMatches(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (globRegex(negated ? p.slice(1) : p).test(host)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** A destination with the config applied: what was found for it, and where it leads. */
export interface ResolvedHop {
  readonly cfg: SshHostConfig;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

export function resolveHop(
  dest: { readonly host: string; readonly port?: number; readonly user?: string },
  options: SshConfigContext & { readonly sshConfigFiles: readonly string[] },
): ResolvedHop {
  const cfg = resolveSshConfig(dest.host, options.sshConfigFiles, { home: options.home, localUser: options.localUser });
  return { cfg, host: cfg.hostName ?? dest.host, port: dest.port ?? cfg.port ?? 22, user: dest.user ?? cfg.user ?? options.localUser };
}

export function resolveSshConfig(host: string, files: readonly string[], ctx: SshConfigContext): SshHostConfig {
  const found = new Map<string, string[]>();
  const identityFiles: string[] = [];
  let active = true;
  for (const file of files) {
    active = true;
    for (const { key, args } of parseLines(file, ctx)) {
      if (key === 'host') active = hostMatches(args, host);
      else if (key === 'match') active = args.length === 1 && args[0]?.toLowerCase() === 'all';
      else if (!active) continue;
      else if (key === 'identityfile') identityFiles.push(...args);
      else if (!found.has(key)) found.set(key, args);
    }
  }
  const one = (k: string): string | undefined => found.get(k)?.[0];
  const int = (k: string): number | undefined => {
    const v = one(k);
    return v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : undefined;
  };
  const hostName = one('hostname')?.replace(/%h/g, host);
  const user = one('user');
  const port = int('port');
  const expand = (path: string): string =>
    path
      .replace(/%%/g, '\0')
      .replace(/%d/g, ctx.home)
      .replace(/%u/g, ctx.localUser)
      .replace(/%h/g, hostName ?? host)
      .replace(/%r/g, user ?? ctx.localUser)
      .replace(/%p/g, String(port ?? 22))
      .replace(/^~(?=\/|$)/, ctx.home)
      .replace(/\0/g, '%');
  const proxyJump = one('proxyjump');
  return {
    ...(hostName !== undefined ? { hostName } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(port !== undefined ? { port } : {}),
    identityFiles: identityFiles.map(expand),
    ...(one('identitiesonly') !== undefined ? { identitiesOnly: one('identitiesonly')?.toLowerCase() === 'yes' } : {}),
    ...(proxyJump !== undefined && proxyJump.toLowerCase() !== 'none' ? { proxyJump } : {}),
    ...(int('serveraliveinterval') !== undefined ? { serverAliveInterval: int('serveraliveinterval') ?? 0 } : {}),
    ...(int('connecttimeout') !== undefined ? { connectTimeout: int('connecttimeout') ?? 0 } : {}),
  };
}

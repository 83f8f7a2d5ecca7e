/**
 * `${env:NAME}` and `${env:NAME:-default}` inside profile strings, expanded from the local
 * environment when the file is read. `$${env:NAME}` stands for the literal text `${env:NAME}`.
 * Other `${…}` text (a shell snippet in run.program, say) is left alone.
 */
import type { Finding } from './diagnostics.js';
import { pointer } from './toml-locate.js';

const REFERENCE = /\$(\$?)\{env:([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Interpolated {
  readonly value: Record<string, unknown>;
  readonly envUsed: Map<string, string[]>;
  readonly findings: Finding[];
}

export function interpolate(data: Record<string, unknown>, env: NodeJS.ProcessEnv): Interpolated {
  const envUsed = new Map<string, string[]>();
  const findings: Finding[] = [];

  const expand = (text: string, path: (string | number)[]): string => {
    const used: string[] = [];
    const out = text.replace(REFERENCE, (whole, escaped: string, body: string) => {
      if (escaped === '$') return whole.slice(1);
      const sep = body.indexOf(':-');
      const name = sep < 0 ? body : body.slice(0, sep);
      if (!NAME.test(name)) {
        findings.push({ pointer: pointer(path), message: `\${env:${body}}: \`${name}\` is not a variable name`, hints: ['write ${env:NAME} or ${env:NAME:-default}; NAME is letters, digits and _'] });
        return whole;
      }
      used.push(name);
      const set = env[name];
      if (set !== undefined) return set;
      if (sep >= 0) return body.slice(sep + 2);
      findings.push({
        pointer: pointer(path),
        message: `environment variable ${name} is not set`,
        hints: [`set ${name}, or give a default: \${env:${name}:-VALUE}`],
      });
      return whole;
    });
    if (used.length > 0) envUsed.set(pointer(path), used);
    return out;
  };

  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') return expand(value, path);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (isPlainTable(value)) {
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return value;
  };

  return { value: walk(data, []) as Record<string, unknown>, envUsed, findings };
}

/** A TOML table (not a datetime or other object). */
export function isPlainTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `${env:NAME}` and `${env:NAME:-default}` inside profile strings, expanded from the local
 * environment when the file is read. `$${env:NAME}` stands for the literal text `${env:NAME}`.
 * Other `${…}` text (a shell snippet in run.program, say) is left alone — except what can only
 * be a mistyped reference: `${env:` never closed, or a namespace one letter from `env`
 * (`${evn:USER}`), which are errors rather than text that silently stays literal.
 */
import { closest } from '../util/suggest.js';
import type { Finding } from './diagnostics.js';
import { pointer } from './toml-locate.js';

const REFERENCE = /\$(\$?)\{env:([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `${word:` followed by a letter: a namespace (shell's `${VAR:-x}`, `${VAR:2}` are not). */
const NAMESPACE = /(^|[^$])\$\{([A-Za-z]+):(?=[A-Za-z_])/g;

/** What in `text` can only be a broken reference: an unclosed `${env:`, a misspelt namespace. */
function brokenReferences(text: string): { message: string; hints: string[] }[] {
  const out: { message: string; hints: string[] }[] = [];
  const unclosed = /(^|[^$])\$\{env:(?![^}]*\})/.exec(text);
  if (unclosed !== null)
    out.push({ message: `\`\${env:\` is never closed with \`}\``, hints: ['write ${env:NAME} or ${env:NAME:-default}'] });
  for (const m of text.matchAll(NAMESPACE)) {
    const space = m[2] ?? '';
    if (space !== 'env' && closest(space, ['env']) !== undefined) {
      out.push({ message: `\`\${${space}:\` is not a reference: the only namespace is env`, hints: [`did you mean \`\${env:\`?`] });
    }
  }
  return out;
}

export interface Interpolated {
  readonly value: Record<string, unknown>;
  readonly envUsed: Map<string, string[]>;
  readonly findings: Finding[];
}

export function interpolate(data: Record<string, unknown>, env: NodeJS.ProcessEnv): Interpolated {
  const envUsed = new Map<string, string[]>();
  const findings: Finding[] = [];

  const expand = (text: string, path: (string | number)[]): string => {
    for (const broken of brokenReferences(text)) findings.push({ pointer: pointer(path), ...broken });
    const used: string[] = [];
    const out = text.replace(REFERENCE, (whole, escaped: string, body: string) => {
      if (escaped === '$') return whole.slice(1);
      const sep = body.indexOf(':-');
      const name = sep < 0 ? body : body.slice(0, sep);
      if (!NAME.test(name)) {
        findings.push({
          pointer: pointer(path),
          message: `\${env:${body}}: \`${name}\` is not a variable name`,
          hints: ['write ${env:NAME} or ${env:NAME:-default}; NAME is letters, digits and _'],
        });
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

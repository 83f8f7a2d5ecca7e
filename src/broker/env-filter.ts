/**
 * Which environment variables reach a remote command: those matching `keep`, or changed by the
 * program (when a baseline is given), minus those matching `remove` (remove beats keep; matched
 * ignoring case), plus `set`. Applied once, where a command leaves for the remote.
 */
import { compileNamePattern } from '../util/patterns.js';

export interface EnvPolicy {
  readonly keep: readonly string[];
  readonly remove: readonly string[];
  readonly set: Readonly<Record<string, string>>;
}

export type EnvFilter = (env: NodeJS.ProcessEnv, baseline?: NodeJS.ProcessEnv) => Record<string, string>;

function matcher(patterns: readonly string[], ignoreCase = false): (name: string) => boolean {
  const tests = patterns.map((p) => {
    const c = compileNamePattern(p, { ignoreCase });
    // Profiles are validated before use; a pattern that does not compile matches nothing.
    return c.ok ? c.value : () => false;
  });
  return (name) => tests.some((t) => t(name));
}

export function envFilter(policy: EnvPolicy): EnvFilter {
  const keep = matcher(policy.keep);
  // What must not leave is matched in any case: `github_token` is as secret as `GITHUB_TOKEN`.
  const remove = matcher(policy.remove, true);
  return (env, baseline) => {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined || remove(name)) continue;
      const changed = baseline !== undefined && baseline[name] !== value;
      if (keep(name) || changed) out[name] = value;
    }
    return { ...out, ...policy.set };
  };
}

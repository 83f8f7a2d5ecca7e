/**
 * Which environment variables reach a remote command: those matching `keep`, or changed by the
 * program (when a baseline is given), minus those matching `remove` (remove beats keep; matched
 * ignoring case), plus `set`. Applied once, where a command leaves for the remote: remoteEnv()
 * is that environment for every face (exec, up's broker, the MCP tools).
 */
import type { RemoteInfo } from '../remote/host.js';
import { compileNamePattern } from '../util/patterns.js';

export interface EnvPolicy {
  readonly keep: readonly string[];
  readonly remove: readonly string[];
  readonly set: Readonly<Record<string, string>>;
}

export type EnvFilter = (env: NodeJS.ProcessEnv, baseline?: NodeJS.ProcessEnv) => Record<string, string>;

/** Names remembered per pattern list (a session's environment has a few dozen). */
const SEEN_MAX = 4096;

function matcher(patterns: readonly string[], ignoreCase = false): (name: string) => boolean {
  const tests = patterns.map((p) => {
    const c = compileNamePattern(p, { ignoreCase });
    // Profiles are validated before use; a pattern that does not compile matches nothing.
    return c.ok ? c.value : () => false;
  });
  // Every command of a session brings the same names: each is matched once.
  const seen = new Map<string, boolean>();
  return (name) => {
    let verdict = seen.get(name);
    if (verdict === undefined) {
      verdict = tests.some((t) => t(name));
      if (seen.size < SEEN_MAX) seen.set(name, verdict);
    }
    return verdict;
  };
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

/** What `ssh host cmd` would start from: the remote user's own identity and PATH. */
function remoteLoginEnv(info: RemoteInfo): Record<string, string> {
  return { HOME: info.home, USER: info.user, LOGNAME: info.user, SHELL: info.shell, PATH: info.path };
}

/**
 * The environment of a remote command, for every face (exec, up's broker): the remote login's
 * identity and PATH, then what [env] lets through of `env` (with `baseline`: also what the
 * program changed), then [env] set.
 */
export function remoteEnv(
  info: RemoteInfo,
  policy: EnvPolicy,
): (env: NodeJS.ProcessEnv, baseline?: NodeJS.ProcessEnv) => Record<string, string> {
  const login = remoteLoginEnv(info);
  const filter = envFilter(policy);
  return (env, baseline) => ({ ...login, ...filter(env, baseline) });
}

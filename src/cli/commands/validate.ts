/**
 * `mproxy validate [PATH…] [--json] [--set K=V]…`: every profile file named, or found in the
 * directories named (default: the repository's .mproxy/), checked fully; bases that other
 * profiles extend, and machineproxy.toml files, are checked as partial profiles.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { findProfileDir, profilesIn } from '../../profile/discover.js';
import type { LoadOptions, LoadResult } from '../../profile/load.js';
import { MproxyError } from '../../util/errors.js';
import { parseSetFlags } from '../args.js';
import type { Command } from '../command.js';
import { formatDiagnostic, plural } from '../output.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check profiles against the schema and the rules; report every problem located',
  usage: 'mproxy validate [PATH...] [--connect] [--json] [--set KEY.PATH=VALUE]...',
  details: [
    'PATH is a profile file or a directory (every *.toml below it; *.local.toml overlays are',
    'applied to their profile). Without PATH: the .mproxy/ directory of the repository, found',
    'from the current directory up to the git root.',
    '',
    "With --connect each valid profile's target is also reached as `mproxy up` would reach it;",
    'a failure is located at the line that configures it. Nothing is left on the remote but',
    "the agent's content-addressed cache.",
    '',
    'Exit status: 0 all valid, 1 any invalid, 2 usage error.',
  ],
  options: {
    json: { type: 'boolean', description: 'print [{"file","valid","issues":[…],"connect":[…]}] on stdout' },
    connect: {
      type: 'boolean',
      description:
        "also reach each target as up would: connect, authenticate, host key, tier, each mount's remote directory, the remote PATH",
    },
    set: {
      type: 'string',
      multiple: true,
      valueName: 'KEY.PATH=VALUE',
      description: 'override a key for this check, e.g. --set target.agent=none',
    },
  },
  failureExit: 1,
  async run(args, io) {
    const flags = parseSetFlags(args.values['set'] as string[] | undefined);
    const files = collectFiles(args.positionals, io.cwd);
    const { loadProfile } = await import('../../profile/load.js');
    const base: LoadOptions = { cwd: io.cwd, env: io.env, home: io.home, flags };
    const first = files.map((f) => loadProfile(f, { ...base, partial: isMachineConfig(f) }));
    // A file another profile extends is a base: it need not be complete on its own.
    const bases = new Set<string>();
    first.forEach((r, i) => {
      const self = realPath(files[i] ?? '');
      for (const s of r.sources) if (s !== self) bases.add(s);
    });
    const loaded: LoadResult[] = first.map((r, i) => {
      const file = files[i] ?? '';
      return bases.has(realPath(file)) ? loadProfile(file, { ...base, partial: true }) : r;
    });
    // --connect: each whole, valid profile's target reached as `up` would (bases and overlays are no targets).
    const connected = new Map<string, string[]>();
    const results: LoadResult[] = [];
    for (const [i, r] of loaded.entries()) {
      const partial = bases.has(realPath(files[i] ?? '')) || isMachineConfig(files[i] ?? '');
      if (args.values['connect'] !== true || r.profile === undefined || partial) {
        results.push(r);
        continue;
      }
      const { checkConnection } = await import('../../runner/check.js');
      const check = await checkConnection(r, {
        home: io.home,
        cwd: io.cwd,
        env: io.env,
        warn: (m) => io.stderr(`mproxy: warning: ${m}\n`),
      });
      connected.set(r.file, check.steps);
      if (args.values['json'] !== true) for (const step of check.steps) io.stderr(`${r.file}: ${step}\n`);
      results.push({ ...r, diagnostics: [...r.diagnostics, ...check.diagnostics] });
    }
    const invalid = results.filter((r) => r.diagnostics.some((d) => d.severity === 'error'));
    if (args.values['json'] === true) {
      io.stdout(
        `${JSON.stringify(
          results.map((r) => ({ ...toJson(r), ...(connected.has(r.file) ? { connect: connected.get(r.file) } : {}) })),
          null,
          2,
        )}\n`,
      );
    } else {
      // A problem in a shared base shows once, not once per profile that extends it.
      const lines = new Set(results.flatMap((r) => r.diagnostics.map(formatDiagnostic)));
      for (const line of lines) io.stderr(`${line}\n`);
      io.stderr(`${plural(results.length, 'profile')} checked, ${invalid.length} invalid\n`);
    }
    return invalid.length > 0 ? 1 : 0;
  },
};

function toJson(r: LoadResult): object {
  return {
    file: r.file,
    valid: !r.diagnostics.some((d) => d.severity === 'error'),
    issues: r.diagnostics.map((d) => ({
      file: d.file,
      line: d.line,
      column: d.column,
      severity: d.severity,
      path: d.path,
      message: d.message,
      hint: d.hints.length > 0 ? d.hints.join('\n') : null,
    })),
  };
}

function collectFiles(paths: readonly string[], cwd: string): string[] {
  if (paths.length === 0) {
    const dir = findProfileDir(cwd);
    if (dir === undefined) {
      throw new MproxyError('E_PROFILE_NOT_FOUND', 'no PATH given and no .mproxy/ directory found', {
        hint: [
          'looked in the current directory and its parents up to the git root',
          'name files or directories: mproxy validate profiles/',
        ],
      });
    }
    paths = [dir];
  }
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new MproxyError('E_USAGE', `${p}: no such file or directory`, { hint: 'name profile files or directories that contain them' });
    }
    if (!isDir) files.push(abs);
    else {
      const found = profilesIn(abs);
      if (found.length === 0) throw new MproxyError('E_PROFILE_NOT_FOUND', `${p}: no *.toml profiles in this directory`);
      files.push(...found);
    }
  }
  return [...new Set(files)];
}

/** Files that complete other profiles rather than stand alone: machine/user config, overlays. */
function isMachineConfig(file: string): boolean {
  const name = basename(file);
  return name === 'machineproxy.toml' || name.endsWith('.local.toml');
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

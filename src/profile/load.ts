/**
 * A profile from its file to a typed, validated, fully resolved value. Layers, low to high:
 * built-in defaults < /etc/machineproxy/machineproxy.toml < ~/.config/machineproxy/machineproxy.toml
 * < the `extends` chain < the profile < NAME.local.toml beside it < command-line flags.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Diagnostic, Layer, Origin } from './diagnostics.js';
import { locate, sortDiagnostics } from './diagnostics.js';
import { defaultsLayer } from './defaults.js';
import { displayName, loadChain, type ChainContext } from './extends.js';
import { mergeLayers } from './merge.js';
import { resolveLocalPaths } from './resolve.js';
import { checkSchema } from './schema-check.js';
import type { Profile } from './schema.js';
import { checkSemantics } from './semantic.js';

export interface FlagSetting {
  /** As typed, for messages: `--set target.agent=none`. */
  readonly flag: string;
  readonly path: readonly string[];
  readonly value: unknown;
}

export interface LoadOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly flags?: readonly FlagSetting[];
  /** A base file (extended by others) or an overlay: missing required keys are not errors. */
  readonly partial?: boolean;
  /** Where the profile's relative paths start when the file is not in the project (the
   *  embedded `local` profile): default, the file's own directory. */
  readonly projectDir?: string;
}

export interface LoadResult {
  /** The profile as named in messages. */
  readonly file: string;
  /** Present when there is no error. */
  readonly profile?: Profile;
  readonly data: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, Origin>;
  readonly diagnostics: readonly Diagnostic[];
  /** Real paths of every file read for it (extends chain, overlays, machine-wide files). */
  readonly sources: ReadonlySet<string>;
}

/** Where the machine-wide and per-user configuration files are (overridable for tests and packagers). */
export function configPaths(env: NodeJS.ProcessEnv, home: string): { system: string; user: string } {
  const xdg = env['XDG_CONFIG_HOME'] !== undefined && env['XDG_CONFIG_HOME'] !== '' ? env['XDG_CONFIG_HOME'] : join(home, '.config');
  return {
    system: env['MPROXY_SYSTEM_CONFIG'] ?? '/etc/machineproxy/machineproxy.toml',
    user: env['MPROXY_USER_CONFIG'] ?? join(xdg, 'machineproxy', 'machineproxy.toml'),
  };
}

export function loadProfile(file: string, options: LoadOptions): LoadResult {
  const path = resolve(options.cwd, file);
  const name = displayName(path, options.cwd);
  const diagnostics: Diagnostic[] = [];
  const ctx: ChainContext = { cwd: options.cwd, env: options.env, diagnostics, used: new Set(), reported: new Set(), incomplete: false };
  const { system, user } = configPaths(options.env, options.home);

  const layers: Layer[] = [defaultsLayer()];
  for (const global of [system, user]) {
    if (existsSync(global) && resolve(global) !== path) layers.push(...loadChain(global, ctx));
  }
  layers.push(...loadChain(path, ctx));
  const overlay = overlayPath(path);
  if (overlay !== undefined && existsSync(overlay)) layers.push(...loadChain(overlay, ctx));
  for (const flag of options.flags ?? []) layers.push(flagLayer(flag));

  const merged = mergeLayers(layers);
  const origins = merged.origins;
  // With a file missing, the merged result would raise errors that are only echoes of it.
  if (!ctx.incomplete) {
    // The rule checks word a value's problem more precisely than a schema pattern, so they go
    // first, and each value is reported once.
    const findings = [
      ...checkSemantics(merged.data, { home: options.home }),
      ...checkSchema(merged.data, origins, { partial: options.partial === true }),
    ];
    for (const f of findings) {
      const isError = f.severity !== 'warning';
      if (isError && ctx.reported.has(f.pointer)) continue;
      if (isError) ctx.reported.add(f.pointer);
      diagnostics.push(locate(f, origins, name));
    }
  }
  const sorted = sortDiagnostics(diagnostics);
  const result = { file: name, data: merged.data, origins, diagnostics: sorted, sources: ctx.used };
  if (sorted.some((d) => d.severity === 'error')) return result;
  const profile = resolveLocalPaths(merged.data as Profile, origins, {
    home: options.home,
    profileDir: options.projectDir ?? dirname(path),
  });
  return { ...result, profile };
}

/** `NAME.local.toml` beside `NAME.toml`; none for an overlay or a machine-wide file. */
export function overlayPath(profile: string): string | undefined {
  const base = basename(profile);
  if (!base.endsWith('.toml') || base.endsWith('.local.toml') || base === 'machineproxy.toml') return undefined;
  return join(dirname(profile), `${base.slice(0, -'.toml'.length)}.local.toml`);
}

function flagLayer(flag: FlagSetting): Layer {
  const data = Object.create(null) as Record<string, unknown>;
  let cursor = data;
  flag.path.forEach((segment, i) => {
    if (i === flag.path.length - 1) {
      cursor[segment] = flag.value;
    } else {
      const next = Object.create(null) as Record<string, unknown>;
      cursor[segment] = next;
      cursor = next;
    }
  });
  return { origin: { kind: 'flag', flag: flag.flag }, data, envUsed: new Map() };
}

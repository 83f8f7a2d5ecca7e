/**
 * Local paths made concrete once a profile is valid: `~` expanded against the local home, a
 * mount's local path defaulted to its remote path and its other keys to the schema's defaults,
 * the recording path anchored at the project root. Remote paths keep their `~`: the remote home is known only once connected. Keys come
 * out in schema order, so `mproxy config` reads like the reference.
 */
import { basename, dirname, isAbsolute, join } from 'node:path';
import { expandHome, normalizeAbsolute } from '../util/paths.js';
import type { Origin } from './diagnostics.js';
import { itemDefaults } from './defaults.js';
import { isPlainTable } from './interpolate.js';
import { profileSchema, type Profile } from './schema.js';
import type { JsonSchema } from './schema-types.js';

export interface ResolveContext {
  readonly home: string;
  readonly profileDir: string;
}

export function resolveLocalPaths(profile: Profile, origins: Map<string, Origin>, ctx: ResolveContext): Profile {
  const local = (p: string): string => normalizeAbsolute(expandHome(p, ctx.home));
  const mounts = withDefaults(profile.mounts, 'mounts', origins)?.map((m, i) => {
    if (m.local === undefined) {
      const from = origins.get(`/mounts/${i}/remote`);
      if (from !== undefined) origins.set(`/mounts/${i}/local`, from);
    }
    return { ...m, local: local(m.local ?? m.remote) };
  });
  const forwards = withDefaults(profile.forwards, 'forwards', origins);
  const identity = profile.target.identity_file;
  const workingDir = profile.sandbox.working_dir;
  const resolved: Profile = {
    ...profile,
    target: {
      ...profile.target,
      ...(identity !== undefined ? { identity_file: anchored(expandHome(identity, ctx.home), ctx.profileDir) } : {}),
    },
    ...(mounts !== undefined ? { mounts } : {}),
    ...(forwards !== undefined ? { forwards } : {}),
    sandbox: { ...profile.sandbox, ...(workingDir !== undefined ? { working_dir: local(workingDir) } : {}) },
    recording: { ...profile.recording, path: anchored(expandHome(profile.recording.path, ctx.home), projectRoot(ctx.profileDir)) },
  };
  return inSchemaOrder(resolved, profileSchema) as Profile;
}

/** Each entry with the schema's defaults for what it does not say, each default's origin recorded. */
function withDefaults<T extends object>(
  entries: readonly T[] | undefined,
  key: 'mounts' | 'forwards',
  origins: Map<string, Origin>,
): T[] | undefined {
  const defaults = itemDefaults(key);
  return entries?.map((e, i) => {
    const completed = { ...e } as Record<string, unknown>;
    for (const [k, value] of Object.entries(defaults)) {
      if (Object.hasOwn(e, k)) continue;
      completed[k] = value;
      origins.set(`/${key}/${i}/${k}`, { kind: 'default' });
    }
    return completed as T;
  });
}

/** The directory holding `.mproxy/` when the profile lives there, else the profile's directory. */
export function projectRoot(profileDir: string): string {
  return basename(profileDir) === '.mproxy' ? dirname(profileDir) : profileDir;
}

function anchored(path: string, dir: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}

function inSchemaOrder(value: unknown, schema: JsonSchema | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => inSchemaOrder(v, schema?.items));
  if (!isPlainTable(value)) return value;
  const props = schema?.properties ?? {};
  const keys = [
    ...Object.keys(props).filter((k) => Object.hasOwn(value, k)),
    ...Object.keys(value).filter((k) => !Object.hasOwn(props, k)),
  ];
  const out: Record<string, unknown> = {};
  // defineProperty, not assignment: a key named __proto__ must stay a key.
  for (const k of keys)
    Object.defineProperty(out, k, { value: inSchemaOrder(value[k], props[k]), enumerable: true, writable: true, configurable: true });
  return out;
}

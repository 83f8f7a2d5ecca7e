/**
 * A valid, resolved profile's values as the code uses them: durations in milliseconds, sizes
 * in bytes, every mount complete (local path, flags, cache lifetime). The one place where
 * profile text becomes numbers and where a mount's defaults are read; nothing downstream parses
 * a duration or applies a default again. Remote paths keep their `~` until the remote's home is
 * known (`onRemote`).
 */
import { type Endpoint, parseEndpoint } from '../util/endpoint.js';
import { MproxyError } from '../util/errors.js';
import { expandHome } from '../util/paths.js';
import { parseDuration, parseSize } from '../util/units.js';
import { itemDefaults } from './defaults.js';
import type { Profile } from './schema.js';

export interface MountSetting {
  /** As written: absolute, or `~`-relative to the remote home. */
  readonly remote: string;
  /** Absolute, on this machine. */
  readonly local: string;
  readonly readOnly: boolean;
  readonly owner: 'local' | 'remote';
  readonly ttlMs: number;
  readonly allowOther: boolean;
}

export interface ForwardSetting {
  /** Its place in [[forwards]], for messages that point at it (/forwards/N). */
  readonly index: number;
  readonly direction: 'to-remote' | 'to-local';
  /** This machine's end; absent with a service. */
  readonly local?: Endpoint;
  readonly remote: Endpoint;
  readonly service?: 'http-proxy';
}

export interface Settings {
  readonly connectTimeoutMs: number;
  readonly keepaliveMs: number;
  /** The deadline of every remote operation, on every tier. */
  readonly opTimeoutMs: number;
  readonly recordingMaxBytes: number;
  readonly mounts: readonly MountSetting[];
  /** [mcp]: each stream of a shell command, and a search's results, cut past this. */
  readonly mcpMaxOutputBytes: number;
  readonly mcpShellTimeoutMs: number;
  readonly forwards: readonly ForwardSetting[];
}

/** A value the schema and the semantic checks have already accepted; failing here is a bug. */
function checked<T>(value: T | undefined, key: string, text: string | undefined): T {
  if (value === undefined) throw new MproxyError('E_INTERNAL', `${key} = ${JSON.stringify(text)} reached the runtime unchecked`);
  return value;
}

const ms = (text: string, key: string): number => checked(parseDuration(text), key, text);

export function settingsOf(profile: Profile): Settings {
  const t = profile.target;
  return {
    connectTimeoutMs: ms(t.connect_timeout, 'target.connect_timeout'),
    keepaliveMs: ms(t.keepalive, 'target.keepalive'),
    opTimeoutMs: ms(t.op_timeout, 'target.op_timeout'),
    recordingMaxBytes: checked(parseSize(profile.recording.max_size), 'recording.max_size', profile.recording.max_size),
    mounts: (profile.mounts ?? []).map((m, i) => mountSetting(m, `mounts[${i}]`)),
    mcpMaxOutputBytes: checked(parseSize(profile.mcp.max_output), 'mcp.max_output', profile.mcp.max_output),
    mcpShellTimeoutMs: ms(profile.mcp.shell_timeout, 'mcp.shell_timeout'),
    forwards: (profile.forwards ?? []).map((f, index) => {
      const end = (v: number | string, key: string): Endpoint => {
        const parsed = parseEndpoint(v);
        if (!parsed.ok) throw new MproxyError('E_INTERNAL', `${key} = ${JSON.stringify(v)} reached the runtime unchecked`);
        return parsed.value;
      };
      return {
        index,
        direction: f.direction,
        remote: end(f.remote, `forwards[${index}].remote`),
        ...(f.local !== undefined ? { local: end(f.local, `forwards[${index}].local`) } : {}),
        ...(f.service !== undefined ? { service: f.service } : {}),
      };
    }),
  };
}

type MountEntry = NonNullable<Profile['mounts']>[number];

function mountSetting(m: MountEntry, key: string): MountSetting {
  return {
    remote: m.remote,
    local: checked(m.local, `${key}.local`, m.local),
    readOnly: m.read_only,
    owner: m.owner,
    ttlMs: ms(m.cache_ttl, `${key}.cache_ttl`),
    allowOther: m.allow_other,
  };
}

/** Without [[mounts]]: the current directory at the same path on both sides, with a mount's defaults. */
export function cwdMount(cwd: string): MountSetting {
  // The defaults are read off the schema, so they have the entry's types.
  const defaults = itemDefaults('mounts') as Omit<MountEntry, 'remote' | 'local'>;
  return mountSetting({ ...defaults, remote: cwd, local: cwd }, 'the current directory');
}

/** A remote path as written (`~`, `~/x`, absolute) against the remote user's home. */
export function onRemote(path: string, remoteHome: string): string {
  return expandHome(path, remoteHome);
}

/** The mounts once connected: each remote path against the remote user's home. */
export function mountsOn(settings: Settings, remoteHome: string): MountSetting[] {
  return settings.mounts.map((m) => ({ ...m, remote: onRemote(m.remote, remoteHome) }));
}

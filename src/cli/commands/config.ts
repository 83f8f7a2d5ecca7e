/**
 * `mproxy config [PROFILE] [--json] [--set K=V]…`: the fully resolved profile, one line per
 * value, each with where it came from (file:line, default, env:NAME, flag).
 */
import { describeOrigin, dottedPath, type Origin } from '../../profile/diagnostics.js';
import { isPlainTable } from '../../profile/interpolate.js';
import { pointer } from '../../profile/toml-locate.js';
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { loadProfileArg } from '../profile-arg.js';

interface Row {
  readonly path: string;
  readonly value: unknown;
  readonly origin: string;
}

export const configCommand: Command = {
  name: 'config',
  summary: 'show the fully resolved profile, each value with the file and line it came from',
  usage: 'mproxy config [PROFILE] [--json] [--set KEY.PATH=VALUE]...',
  details: [
    'PROFILE is a path, or a NAME found as .mproxy/NAME.toml from the current directory up to',
    'the git root; without it, .mproxy/default.toml or the only profile there.',
    'Layers, low to high: default < /etc/machineproxy/machineproxy.toml <',
    '~/.config/machineproxy/machineproxy.toml < extends chain < the profile < NAME.local.toml < --set.',
  ],
  options: {
    json: { type: 'boolean', description: 'print {"file","profile","values":[{"path","value","origin"}]} on stdout' },
    set: { type: 'string', multiple: true, valueName: 'KEY.PATH=VALUE', description: 'override a key, e.g. --set target.agent=none' },
  },
  failureExit: 1,
  async run(args, io) {
    if (args.positionals.length > 1) throw usage(args.positionals);
    const result = await loadProfileArg(args.positionals[0], io, args.values['set'] as string[] | undefined);
    if (result.profile === undefined) return 1;
    const rows = flatten(result.profile, [], result.origins);
    if (args.values['json'] === true) {
      io.stdout(`${JSON.stringify({ file: result.file, profile: result.profile, values: rows }, null, 2)}\n`);
      return 0;
    }
    const width = Math.min(64, Math.max(...rows.map((r) => r.path.length + 3 + toml(r.value).length)));
    io.stdout(`# ${result.file}, fully resolved\n`);
    for (const r of rows) {
      const line = `${r.path} = ${toml(r.value)}`;
      io.stdout(`${line.padEnd(width)}  # ${r.origin}\n`);
    }
    return 0;
  },
};

function usage(extra: readonly string[]): MproxyError {
  return new MproxyError('E_USAGE', `config takes one PROFILE, got ${extra.length}: ${extra.join(' ')}`, {
    hint: 'run `mproxy config --help` for usage',
  });
}

/** Scalars, scalar arrays and empty tables are leaves; tables and arrays of tables recurse. */
function flatten(value: unknown, path: (string | number)[], origins: ReadonlyMap<string, Origin>): Row[] {
  const isTableArray = Array.isArray(value) && value.length > 0 && value.every(isPlainTable);
  if ((isPlainTable(value) && Object.keys(value).length > 0) || isTableArray) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, [...path, Array.isArray(value) ? Number(k) : k], origins));
  }
  const ptr = pointer(path);
  return [{ path: dottedPath(ptr), value, origin: describeOrigin(origins.get(ptr)) }];
}

function toml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toml).join(', ')}]`;
  if (isPlainTable(value))
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k} = ${toml(v)}`)
      .join(', ')} }`.replace('{  }', '{}');
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

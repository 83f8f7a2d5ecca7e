/**
 * Checks the schema cannot express: patterns compile, durations and sizes are positive, the
 * target URI parses, mounts are absolute, do not nest and do not cover the local home. Each
 * check looks only at values of the right type (the schema reports the others).
 */
import { compileCommandPattern, compileNamePattern } from '../util/patterns.js';
import { expandHome, isWithin, normalizeAbsolute } from '../util/paths.js';
import { closest } from '../util/suggest.js';
import { parseDuration, parseSize } from '../util/units.js';
import { checkForwards } from './check-forwards.js';
import type { Finding } from './diagnostics.js';
import { isPlainTable } from './interpolate.js';
import { parseSshAuthority, parseTargetUri } from '../util/target-uri.js';

export interface SemanticContext {
  /** The local home directory, for `~` and the mount-over-home rule. */
  readonly home: string;
}

const RECORDING_PLACEHOLDERS = ['profile', 'time', 'pid'];

type Table = Record<string, unknown>;
const table = (v: unknown): Table => (isPlainTable(v) ? v : {});
const strings = (v: unknown): [number, string][] =>
  Array.isArray(v) ? v.flatMap((s, i): [number, string][] => (typeof s === 'string' ? [[i, s]] : [])) : [];

export function checkSemantics(data: Table, ctx: SemanticContext): Finding[] {
  const target = table(data['target']);
  const sandbox = table(data['sandbox']);
  const env = table(data['env']);
  const recording = table(data['recording']);
  const mcp = table(data['mcp']);
  return [
    ...checkTarget(target),
    ...checkMounts(data['mounts'], ctx),
    ...checkForwards(data['forwards']),
    ...checkCommandPatterns(sandbox),
    ...['keep', 'remove'].flatMap((k) => checkNamePatterns(env[k], `/env/${k}`)),
    ...checkNamePatterns(recording['redact'], '/recording/redact'),
    ...checkEnvSet(env['set']),
    ...checkPositive(target['connect_timeout'], '/target/connect_timeout', parseDuration),
    ...checkPositive(target['keepalive'], '/target/keepalive', parseDuration),
    ...checkPositive(recording['max_size'], '/recording/max_size', parseSize),
    ...checkPositive(mcp['max_output'], '/mcp/max_output', parseSize),
    ...checkPositive(mcp['shell_timeout'], '/mcp/shell_timeout', parseDuration),
    ...checkRecordingPath(recording['path']),
    ...checkWorkingDir(sandbox['working_dir'], ctx),
  ];
}

function checkWorkingDir(dir: unknown, ctx: SemanticContext): Finding[] {
  if (typeof dir !== 'string' || dir === '' || expandHome(dir, ctx.home).startsWith('/')) return [];
  return [
    {
      pointer: '/sandbox/working_dir',
      message: `\`${dir}\` is not absolute`,
      hints: ['write an absolute local path, or ~/… for your home'],
    },
  ];
}

function checkTarget(target: Table): Finding[] {
  const out: Finding[] = [];
  const uri = target['uri'];
  if (typeof uri === 'string' && uri !== '') {
    const parsed = parseTargetUri(uri);
    if (!parsed.ok) out.push({ pointer: '/target/uri', message: parsed.reason, hints: parsed.hint === undefined ? [] : [parsed.hint] });
  }
  const jump = target['jump'];
  if (typeof jump === 'string' && jump !== '') {
    for (const hop of jump.split(',')) {
      const parsed = parseSshAuthority(hop.trim().replace(/^ssh:\/\//, ''), true);
      if (!parsed.ok)
        out.push({
          pointer: '/target/jump',
          message: `jump host \`${hop.trim()}\`: ${parsed.reason}`,
          hints: ['write [user@]host[:port], several separated by commas'],
        });
    }
  }
  const dockerHost = target['docker_host'];
  if (typeof dockerHost === 'string' && dockerHost !== '' && !/^(unix|tcp|ssh|http|https|npipe):\/\/./.test(dockerHost)) {
    out.push({
      pointer: '/target/docker_host',
      message: `\`${dockerHost}\` is not a Docker daemon address`,
      hints: ['write unix:///var/run/docker.sock, tcp://HOST:2375 or ssh://user@host'],
    });
  }
  return out;
}

function checkMounts(mounts: unknown, ctx: SemanticContext): Finding[] {
  if (!Array.isArray(mounts)) return [];
  const out: Finding[] = [];
  const seen: { local: string; index: number }[] = [];
  const home = normalizeAbsolute(ctx.home);
  mounts.forEach((m: unknown, index) => {
    const mount = table(m);
    const remote = mount['remote'];
    const base = `/mounts/${index}`;
    if (typeof remote === 'string' && remote !== '' && !remote.startsWith('/') && remote !== '~' && !remote.startsWith('~/')) {
      out.push({
        pointer: `${base}/remote`,
        message: `\`${remote}\` is not absolute`,
        hints: ['write an absolute remote path, or ~/… for the remote home'],
      });
    }
    const explicit = typeof mount['local'] === 'string' ? mount['local'] : undefined;
    const raw = explicit ?? (typeof remote === 'string' ? remote : undefined);
    if (raw === undefined || raw === '') return;
    const pointer = explicit !== undefined ? `${base}/local` : `${base}/remote`;
    const expanded = expandHome(raw, ctx.home);
    const said = explicit !== undefined ? '' : ' (local defaults to the remote path)';
    if (!expanded.startsWith('/')) {
      out.push({
        pointer,
        message: `local path \`${raw}\` is not absolute${said}`,
        hints: ['write an absolute path, or ~/… for your home'],
      });
      return;
    }
    const local = normalizeAbsolute(expanded);
    if (isWithin(home, local)) {
      out.push({
        pointer,
        message: `local path \`${local}\` ${local === home ? 'is' : 'contains'} your home directory ${home}${said}`,
        hints: [
          "the program's own configuration and credentials live in your home; mount the remote under it instead (local " +
            '= "~/remote/fw") or at another path',
        ],
      });
    }
    for (const other of seen) {
      if (isWithin(local, other.local) || isWithin(other.local, local)) {
        const how = local === other.local ? 'is the same as' : isWithin(local, other.local) ? 'is inside' : 'contains';
        out.push({
          pointer,
          message: `local path \`${local}\` ${how} the local path of mounts[${other.index}] (\`${other.local}\`)`,
          hints: ['mounts may not overlap or nest; give each a separate local directory'],
        });
      }
    }
    seen.push({ local, index });
  });
  return out;
}

function checkCommandPatterns(sandbox: Table): Finding[] {
  const out: Finding[] = [];
  for (const key of ['local_commands', 'remote_commands']) {
    for (const [i, pattern] of strings(sandbox[key])) {
      const compiled = compileCommandPattern(pattern);
      if (!compiled.ok) out.push({ pointer: `/sandbox/${key}/${i}`, message: compiled.reason, hints: [compiled.hint] });
    }
  }
  const mode = sandbox['default'];
  const ignored = mode === 'local' ? 'local_commands' : 'remote_commands';
  if (strings(sandbox[ignored]).length > 0) {
    out.push({
      pointer: `/sandbox/${ignored}`,
      severity: 'warning',
      message: `has no effect while sandbox.default = "${mode === 'local' ? 'local' : 'remote'}"`,
      hints: [
        mode === 'local'
          ? 'with default = "local", list what runs remotely in remote_commands'
          : 'set sandbox.default = "local" to use remote_commands',
      ],
    });
  }
  return out;
}

function checkNamePatterns(list: unknown, pointer: string): Finding[] {
  return strings(list).flatMap(([i, pattern]): Finding[] => {
    const compiled = compileNamePattern(pattern);
    return compiled.ok ? [] : [{ pointer: `${pointer}/${i}`, message: compiled.reason, hints: [compiled.hint] }];
  });
}

function checkEnvSet(set: unknown): Finding[] {
  return Object.keys(table(set)).flatMap((name): Finding[] =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
      ? []
      : [
          {
            pointer: `/env/set/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
            at: 'key',
            message: `\`${name}\` is not an environment variable name`,
            hints: ['names are letters, digits and _, not starting with a digit'],
          },
        ],
  );
}

function checkPositive(value: unknown, pointer: string, parse: (s: string) => number | undefined): Finding[] {
  if (typeof value !== 'string') return [];
  const n = parse(value);
  return n === 0 ? [{ pointer, message: `must be greater than zero (got \`${value}\`)`, hints: [] }] : [];
}

function checkRecordingPath(path: unknown): Finding[] {
  if (typeof path !== 'string') return [];
  return [...path.matchAll(/\{([^}]*)\}/g)].flatMap((m): Finding[] => {
    const name = m[1] ?? '';
    if (RECORDING_PLACEHOLDERS.includes(name)) return [];
    const guess = closest(name, RECORDING_PLACEHOLDERS);
    return [
      {
        pointer: '/recording/path',
        message: `unknown placeholder \`{${name}}\``,
        hints: [`placeholders are {profile}, {time} and {pid}${guess !== undefined ? `; did you mean {${guess}}?` : ''}`],
      },
    ];
  });
}

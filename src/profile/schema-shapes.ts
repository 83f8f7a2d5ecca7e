/**
 * Pieces of the profile's JSON Schema (schema.ts): the shared shapes (duration, size, lists of
 * patterns), a [[mounts]] entry, a [[forwards]] entry, and the [mcp] table of `mproxy mcp`.
 */
import { DURATION_PATTERN, SIZE_PATTERN } from '../util/units.js';

export const duration = (description: string, def: string) =>
  ({ title: 'duration', type: 'string', pattern: DURATION_PATTERN, description, default: def }) as const;

export const patternList = (description: string, def: readonly string[]) =>
  ({
    type: 'array',
    description,
    default: def,
    items: { title: 'pattern', type: 'string', minLength: 1 },
  }) as const;

export const commandList = (description: string) =>
  ({
    type: 'array',
    description,
    default: [],
    items: { title: 'command-pattern', type: 'string', minLength: 1 },
  }) as const;

export const mount = {
  type: 'object',
  description: 'A remote directory served at a local path. The first mount is the workspace.',
  additionalProperties: false,
  required: ['remote'],
  properties: {
    remote: {
      title: 'path',
      type: 'string',
      minLength: 1,
      description: 'Absolute directory on the remote; "~" is the remote user\'s home, resolved once connected.',
      examples: ['/home/builder/fw', '~/src/app'],
    },
    local: {
      title: 'path',
      type: 'string',
      minLength: 1,
      description:
        'Where the program sees it locally. Default: the same path as `remote` ("~" expands to the local home). Must ' +
        'not be, or contain, the local home directory.',
    },
    read_only: {
      type: 'boolean',
      default: false,
      description: 'Refuse writes through this mount (EROFS).',
    },
    owner: {
      enum: ['local', 'remote'],
      default: 'local',
      description:
        'local: files of the remote user appear owned by the local user (so the program may write what the remote user ' +
        "may). remote: the remote's numeric ids as they are.",
    },
    allow_other: {
      type: 'boolean',
      default: false,
      description:
        'Let other local users, and containers running as them, use this mount (FUSE allow_other). Not root: ' +
        '/etc/fuse.conf must say user_allow_other.',
    },
    cache_ttl: duration(
      'How long attributes and listings are trusted without a change notice: the coherence bound agentless. With the ' +
        'agent, remote changes are reported and seen at once.',
      '1s',
    ),
  },
} as const;

export const mcp = {
  type: 'object',
  description: 'What `mproxy mcp` lets an MCP client do on the target.',
  additionalProperties: false,
  default: {},
  properties: {
    confine: {
      type: 'boolean',
      default: true,
      description:
        'The file tools (read_file, write_file, edit_file, list_directory, search, stat) reach only paths inside the ' +
        'mounts (the remote home without mounts); symlinks are followed before the check. false lets them reach every ' +
        'file the remote user can: only for a client you trust as much as a shell on the target (run_shell_command is ' +
        'one either way).',
    },
    max_output: {
      title: 'size',
      type: 'string',
      pattern: SIZE_PATTERN,
      default: '1MiB',
      description: "A shell command's stdout and stderr, each, and a search's results are cut past this; the result says so.",
    },
    shell_timeout: duration('How long run_shell_command lets a command run when the call names no timeout; then it is killed.', '2m'),
  },
} as const;

/** A forward's end: a port (on 127.0.0.1 here, the loopback there), "host:port", or a Unix socket path. */
const endpoint = (description: string) =>
  ({
    title: 'endpoint',
    type: ['integer', 'string'],
    minimum: 1,
    maximum: 65_535,
    minLength: 1,
    description,
    examples: [8080, 'localhost:5432', '/run/postgresql/.s.PGSQL.5432'],
  }) as const;

export const forward = {
  type: 'object',
  description: 'A port or Unix socket forwarded between this machine and the remote, for `up` and `mproxy forward`.',
  additionalProperties: false,
  required: ['remote'],
  properties: {
    local: endpoint(
      'This machine\'s end. to-remote: where it listens (a port on 127.0.0.1, "host:port", or a socket path). to-local: ' +
        'the local service remote connections reach. Not with `service`.',
    ),
    remote: endpoint(
      'The remote\'s end. to-remote: the service there (a port on its loopback, "host:port" as the remote resolves it, ' +
        'or a socket path). to-local: where the remote listens (its loopback, or a socket path).',
    ),
    direction: {
      enum: ['to-remote', 'to-local'],
      default: 'to-remote',
      description: 'to-remote: a local listener reaches a remote service. to-local: a remote listener reaches a local service.',
    },
    service: {
      enum: ['http-proxy'],
      description:
        'to-local only, instead of `local`: a built-in HTTP and HTTPS (CONNECT) proxy on this machine, so an offline ' +
        'remote can fetch through it; remote commands get HTTP_PROXY and HTTPS_PROXY pointing at the remote end.',
    },
  },
} as const;

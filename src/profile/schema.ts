/**
 * The profile's JSON Schema, written as a TypeScript constant. `schemas/profile.schema.json` is
 * this object printed by `mproxy schema` (a test keeps the checked-in file identical), and the
 * Profile type is computed from it (schema-types.ts): the two cannot drift.
 *
 * Shared shapes carry a `title` (duration, size, command-pattern…): the error formatter uses it
 * to word pattern failures in the user's terms instead of quoting a regular expression.
 */
import { SIZE_PATTERN } from '../util/units.js';
import { DEFAULT_ENV_KEEP, DEFAULT_ENV_REMOVE, SECRET_NAMES } from './env-defaults.js';
import { commandList, duration, forward, mcp, mount, patternList } from './schema-shapes.js';
import type { FromSchema, JsonSchema } from './schema-types.js';

/** A recorded-argv flag to redact: `--name` or `-x`, optionally scoped as `command:--name`. */
export const FLAG_PATTERN = '^([^:\\s/]+:)?--?[^-=\\s][^=\\s]*$';

export const profileSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'mproxy profile',
  description: 'How mproxy reaches a machine and what the program run under it may do there. Reference: machineproxy.toml.example.',
  type: 'object',
  additionalProperties: false,
  required: ['target'],
  properties: {
    extends: {
      type: ['string', 'array'],
      minLength: 1,
      items: { type: 'string', minLength: 1 },
      description: 'Profile(s) this one builds on, relative to this file. Later entries and this file win; tables merge, arrays replace.',
      examples: ['./base.toml'],
    },
    description: {
      type: 'string',
      description: 'What this profile is for; shown by `mproxy config`.',
    },
    target: {
      type: 'object',
      description: 'The machine to reach and how.',
      additionalProperties: false,
      required: ['uri'],
      properties: {
        uri: {
          title: 'target-uri',
          type: 'string',
          minLength: 1,
          // The outline only (editors show it); src/profile/target-uri.ts checks the details.
          pattern: '^(local|(ssh|docker|compose)://[^\\s]*|[^\\s/@]+@[^\\s/@]+|[^\\s/@:]+)$',
          description:
            'user@host | ssh://[user@]host[:port] (IPv6 in brackets) | docker://NAME|ID | compose://PROJECT/SERVICE[/N] | ' +
            'compose://./SERVICE | local',
          examples: ['ssh://builder@build01:2222', 'docker://devcontainer', 'compose://./app', 'local'],
        },
        identity_file: {
          title: 'path',
          type: 'string',
          minLength: 1,
          description: 'SSH private key. Default: ssh-agent, then ~/.ssh/config IdentityFile, then the default keys.',
        },
        jump: {
          type: 'string',
          minLength: 1,
          description:
            "ProxyJump: [user@]host[:port], several separated by commas, tried in order. ~/.ssh/config's ProxyJump is honoured when unset.",
        },
        host_key_policy: {
          enum: ['strict', 'accept-new'],
          default: 'strict',
          description:
            "strict: refuse hosts missing from known_hosts. accept-new: record an unknown host's key. A changed key is refused under both.",
        },
        connect_timeout: duration('Give up connecting after this long.', '10s'),
        keepalive: duration('Probe an idle connection this often; three missed probes drop it.', '15s'),
        op_timeout: duration(
          'Deadline of every remote operation, on every tier: a file operation, a query, a script or an upload past it ' +
            'fails (EIO in a mount) instead of hanging.',
          '20s',
        ),
        docker_host: {
          type: 'string',
          minLength: 1,
          description: 'Docker daemon for docker:// and compose:// targets. Default: DOCKER_HOST, else the local socket.',
          examples: ['unix:///var/run/docker.sock'],
        },
        agent: {
          enum: ['auto', 'node', 'none'],
          default: 'auto',
          description:
            'auto: use the agent where the remote has node >= 18, else agentless. node: require the agent. none: always agentless.',
        },
      },
    },
    mounts: {
      type: 'array',
      description: 'Remote directories mounted locally; the first is the workspace. None: the current directory.',
      items: mount,
    },
    forwards: {
      type: 'array',
      description: 'Ports and Unix sockets forwarded while `mproxy up` runs, or alone with `mproxy forward`.',
      items: forward,
    },
    sandbox: {
      type: 'object',
      description: 'Which commands run where.',
      additionalProperties: false,
      default: {},
      properties: {
        default: {
          enum: ['remote', 'local'],
          default: 'remote',
          description: 'Where a command runs when no list names it. remote: all but local_commands. local: only remote_commands go remote.',
        },
        local_commands: commandList(
          'Commands that stay local when default = "remote": a bare name matches the basename, /abs/path the exact path, ' +
            '/regex/ the full path.',
        ),
        remote_commands: commandList('Commands that run remote when default = "local"; same pattern forms as local_commands.'),
        working_dir: {
          title: 'path',
          type: 'string',
          minLength: 1,
          description: 'Where the program starts. Default: the current directory if it is inside a mount, else the workspace.',
        },
      },
    },
    env: {
      type: 'object',
      description: 'Which environment variables reach remote commands. Patterns: glob (`LC_*`) or /regex/.',
      additionalProperties: false,
      default: {},
      properties: {
        keep: patternList(
          "Local variables passed to remote commands. Remote commands start from the remote's own HOME, USER, LOGNAME, " +
            'SHELL and PATH; kept and set variables override them. Replaces the default list when set.',
          DEFAULT_ENV_KEEP,
        ),
        remove: patternList(
          'Variables never passed, even if kept or set by the program; remove beats keep. Matched ignoring case.',
          DEFAULT_ENV_REMOVE,
        ),
        set: {
          type: 'object',
          description: 'Variables set for every remote command.',
          default: {},
          additionalProperties: { type: 'string' },
        },
      },
    },
    recording: {
      type: 'object',
      description: 'What is recorded of remote commands (read it with `mproxy log`).',
      additionalProperties: false,
      default: {},
      properties: {
        mode: {
          enum: ['off', 'commands', 'full'],
          default: 'off',
          description: 'off | commands: argv, cwd, env, exit, timing | full: also every stdio byte.',
        },
        path: {
          title: 'path',
          type: 'string',
          minLength: 1,
          default: '.mproxy/recordings/{profile}-{time}.cbor',
          description:
            'Recording file; a relative path starts at the project root (the directory holding .mproxy/). {profile}, ' +
            '{time} and {pid} are filled in.',
        },
        redact: patternList(
          'Environment variables whose values are written as "[redacted]" (and cut from captured output). Matched ignoring case.',
          SECRET_NAMES,
        ),
        redact_args: {
          type: 'array',
          description:
            'Flags whose values are written as "[redacted]" in recorded argv: `--password=V`, `-pV` and the argument after ' +
            'a bare `--password` or `-p`. `CMD:FLAG` applies only to that command (`mysql:-p`).',
          default: ['--password', '--passwd', '--token', '--secret'],
          items: { title: 'flag', type: 'string', pattern: FLAG_PATTERN },
        },
        max_size: {
          title: 'size',
          type: 'string',
          pattern: SIZE_PATTERN,
          default: '512MiB',
          description: 'Stop recording stdio past this size (commands are still recorded).',
        },
        keep: {
          type: 'integer',
          minimum: 0,
          default: 20,
          description: 'How many recordings of this profile to keep; older ones are deleted. 0 keeps all.',
        },
      },
    },
    run: {
      type: 'object',
      description: 'The program `mproxy up` runs when none is given after `--`.',
      additionalProperties: false,
      default: {},
      properties: {
        program: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          default: ['bash'],
          description: 'Program and arguments; it runs locally, its children remote.',
        },
        auto_forward: {
          type: 'boolean',
          default: true,
          description:
            'When a remote command of the session starts listening on a TCP port, forward the same port here (the next ' +
            'free one if taken) and say so once on stderr.',
        },
        forward_agent: {
          type: 'boolean',
          default: false,
          description:
            "Remote commands get an SSH_AUTH_SOCK that reaches this machine's ssh-agent (a remote git push signs in with " +
            'local keys). Anyone who is root there can use your keys while the session runs.',
        },
      },
    },
    mcp,
  },
} as const satisfies JsonSchema;

/** A profile as written in a file (only `target.uri` is mandatory). */
export type ProfileInput = FromSchema<typeof profileSchema>;
/** A profile after every layer, defaults included, is merged. */
export type Profile = FromSchema<typeof profileSchema, 'resolved'>;
export type MountInput = FromSchema<typeof mount>;

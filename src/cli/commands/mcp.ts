/** `mproxy mcp PROFILE [--http [HOST:]PORT]`: the target's shell and files as MCP tools. */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { loadProfileArg } from '../profile-arg.js';
import { version } from '../version.js';

/** `PORT`, `HOST:PORT` or `[V6]:PORT`; the host is 127.0.0.1 unless given. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (m === null || port > 65_535)
    throw new MproxyError('E_USAGE', `--http takes [HOST:]PORT, not ${JSON.stringify(text)}`, { hint: 'mproxy mcp box --http 8765' });
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: "serve the target's shell and files to an MCP client (stdio, or HTTP with a token)",
  usage: 'mproxy mcp PROFILE [--http [HOST:]PORT [--token-env NAME]] [--set KEY.PATH=VALUE]...',
  details: [
    'Tools: run_shell_command, read_file, write_file, list_directory, edit_file, search, stat.',
    'File tools reach only paths inside the mounts (the remote home without mounts) unless',
    '[mcp] confine = false; remote commands get the environment [env] allows, as under up;',
    'every call is recorded per [recording] and listed by mproxy log.',
    'Without --http, MCP speaks on stdin/stdout (for clients that start their servers), and',
    'the server ends when the client closes stdin. With --http it serves',
    'http://HOST:PORT/mcp (HOST 127.0.0.1 unless given) until Ctrl-C; each request needs',
    '"Authorization: Bearer TOKEN", the token read from the variable --token-env names, else',
    'made at start and printed once on stderr.',
  ],
  options: {
    http: { type: 'string', valueName: '[HOST:]PORT', description: 'serve Streamable HTTP here instead of stdio' },
    'token-env': { type: 'string', valueName: 'NAME', description: 'the bearer token is the value of this variable' },
    set: { type: 'string', multiple: true, valueName: 'KEY.PATH=VALUE', description: 'override a profile key for this run' },
  },
  failureExit: 125,
  async run(args, io) {
    if (args.positionals.length !== 1) throw new MproxyError('E_USAGE', 'mcp takes one PROFILE', { hint: 'mproxy mcp .mproxy/box.toml' });
    const httpArg = args.values['http'] as string | undefined;
    const tokenEnv = args.values['token-env'] as string | undefined;
    if (tokenEnv !== undefined && httpArg === undefined) throw new MproxyError('E_USAGE', '--token-env goes with --http');
    const listen = httpArg !== undefined ? parseListen(httpArg) : undefined;
    let token = '';
    if (listen !== undefined) {
      token = tokenEnv !== undefined ? (io.env[tokenEnv] ?? '') : randomBytes(24).toString('base64url');
      if (token.length < 16)
        throw new MproxyError('E_USAGE', `${tokenEnv ?? 'the token'} must hold a token of at least 16 characters`, {
          hint: `export ${tokenEnv ?? 'MPROXY_MCP_TOKEN'}=$(openssl rand -base64 24)`,
        });
    }
    const loaded = await loadProfileArg(args.positionals[0], io, args.values['set'] as string[] | undefined);
    const profile = loaded.profile;
    if (profile === undefined)
      throw new MproxyError('E_PROFILE_INVALID', `${loaded.file} is not valid`, { hint: `mproxy validate ${loaded.file}` });
    const { runMcp } = await import('../../runner/mcp.js');
    const warn = (message: string): void => io.stderr(`mproxy: warning: ${message}\n`);
    return runMcp(
      {
        profile,
        profileName: basename(loaded.file, '.toml'),
        profileFile: loaded.file,
        version: version(),
        connect: { home: io.home, cwd: io.cwd, env: io.env, warn, ...(io.verbose !== undefined ? { verbose: io.verbose } : {}) },
      },
      {
        ...(listen !== undefined ? { http: { ...listen, token } } : {}),
        listening(url) {
          io.stderr(`mproxy: MCP at ${url}\n`);
          if (tokenEnv === undefined) io.stderr(`mproxy: token (send "Authorization: Bearer TOKEN"): ${token}\n`);
          io.stderr('mproxy: press Ctrl-C to stop\n');
        },
      },
    );
  },
};

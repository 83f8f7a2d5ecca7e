/** `mproxy init [NAME]`: a new profile in the repository's `.mproxy/`, every other key commented. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { findProfileDir } from '../../profile/discover.js';
import { parseTargetUri } from '../../util/target-uri.js';
import { MproxyError } from '../../util/errors.js';
import { packagePath } from '../../util/package-path.js';
import type { Command, CommandIO } from '../command.js';

const EXAMPLE = packagePath('machineproxy.toml.example');
const SCHEMA = packagePath('schemas/profile.schema.json');
const IGNORED = ['*.local.toml', 'recordings/'];

/** Where `.mproxy/` is or goes: an existing one above, else the git root, else the working directory. */
function profileDir(cwd: string): string {
  const found = findProfileDir(cwd);
  if (found !== undefined) return found;
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return join(dir, '.mproxy');
    if (dirname(dir) === dir) return join(resolve(cwd), '.mproxy');
  }
}

async function askTarget(): Promise<string | undefined> {
  if (process.stdin.isTTY !== true) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('Target (local, user@host, ssh://user@host:port, docker://NAME, compose://PROJECT/SERVICE) [local]: ');
    return answer.trim() || 'local';
  } finally {
    rl.close();
  }
}

/** The example with this target, and the schema line pointing at the copy beside it. */
function profileText(uri: string): string {
  const example = readFileSync(EXAMPLE, 'utf8').split('\n');
  const body = example.filter((l) => !l.startsWith('#:schema')).map((l) => (l === 'uri = "local"' ? `uri = ${JSON.stringify(uri)}` : l));
  return ['#:schema ./profile.schema.json', ...body].join('\n');
}

/** Adds what must never be committed (overlays, recordings) to `.mproxy/.gitignore`. */
function ignoreFile(dir: string): void {
  const path = join(dir, '.gitignore');
  const have = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const missing = IGNORED.filter((line) => !have.split('\n').includes(line));
  if (missing.length > 0) writeFileSync(path, `${have}${have === '' || have.endsWith('\n') ? '' : '\n'}${missing.join('\n')}\n`);
}

export const initCommand: Command = {
  name: 'init',
  summary: 'create a profile: .mproxy/NAME.toml with every other key commented',
  usage: 'mproxy init [NAME] [--target URI]',
  details: [
    'Writes .mproxy/NAME.toml (NAME: default) in the repository (the nearest .mproxy/, else the',
    'git root, else here), with the target given or asked for, every other key commented as in',
    'machineproxy.toml.example, and a #:schema line for editors (the schema is copied beside it).',
    '.mproxy/.gitignore keeps personal overlays (*.local.toml) and recordings out of git.',
    'An existing profile is never overwritten.',
  ],
  options: {
    target: { type: 'string', valueName: 'URI', description: 'the target (asked for on a terminal when not given)' },
  },
  failureExit: 1,
  async run(args, io: CommandIO) {
    if (args.positionals.length > 1)
      throw new MproxyError('E_USAGE', 'init takes one NAME', { hint: 'mproxy init build-box --target builder@build01' });
    const name = args.positionals[0] ?? 'default';
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.endsWith('.toml'))
      throw new MproxyError('E_USAGE', `\`${name}\` is not a profile name`, {
        hint: 'letters, digits, . _ and -, without .toml: mproxy init build-box',
      });
    const dir = profileDir(io.cwd);
    const file = join(dir, `${name}.toml`);
    const shown = relative(io.cwd, file) || file;
    if (existsSync(file))
      throw new MproxyError('E_USAGE', `${shown} exists already; init never overwrites a profile`, {
        hint: [`edit it, or pick another name: mproxy init ${name}-2`],
      });
    const uri = (args.values['target'] as string | undefined) ?? (await askTarget());
    if (uri === undefined)
      throw new MproxyError('E_USAGE', 'no target given, and no terminal to ask on', {
        hint: `mproxy init ${name} --target builder@build01 (or local, docker://NAME, compose://PROJECT/SERVICE)`,
      });
    const parsed = parseTargetUri(uri);
    if (!parsed.ok)
      throw new MproxyError('E_USAGE', `--target ${uri}: ${parsed.reason}`, {
        hint: parsed.hint ?? 'e.g. local, builder@build01, ssh://builder@build01:2222, docker://NAME',
      });
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, profileText(uri), { flag: 'wx' });
    if (!existsSync(join(dir, 'profile.schema.json'))) writeFileSync(join(dir, 'profile.schema.json'), readFileSync(SCHEMA));
    ignoreFile(dir);
    io.stderr(`mproxy: wrote ${shown} (target ${uri}); check it with: mproxy validate ${shown}\n`);
    return 0;
  },
};

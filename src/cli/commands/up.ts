/** `mproxy up [PROFILE] [-- PROGRAM ARGS...]`: the product — the program here, its children there. */
import { basename } from 'node:path';
import type { Interception } from '../../runner/up.js';
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { liveOptions } from '../live.js';
import { loadProfileArg, locatingErrors } from '../profile-arg.js';

export const upCommand: Command = {
  name: 'up',
  summary: 'run a program locally with the remote mounted and its children executed remotely',
  usage: 'mproxy up [PROFILE] [--set KEY.PATH=VALUE]... [-- PROGRAM ARGS...]',
  details: [
    "PROGRAM (default: the profile's run.program, bash) runs here in a bubblewrap sandbox where",
    'each [[mounts]] entry sits at its local path; every process it starts runs on the target,',
    'except what [sandbox] local_commands keeps here (with default = "local", only',
    'remote_commands go remote). The program itself and its #! interpreter stay local.',
    'Remote commands get the cwd mapped through the mounts (outside them: the workspace), the',
    'environment [env] allows, a remote pty when their stdin and stdout are a terminal, every',
    'signal, and their exit status. PROFILE `local` is the embedded this-machine target.',
    "Exit status: the program's; 125 when mproxy could not start it (which step failed is",
    'said, and everything started is undone); 130 after Ctrl-C during startup.',
  ],
  options: {
    set: { type: 'string', multiple: true, valueName: 'KEY.PATH=VALUE', description: 'override a profile key for this run' },
    intercept: {
      type: 'string',
      valueName: 'trace|path',
      description: 'how commands are caught: trace (seccomp+ptrace, the default on x86_64) or path (PATH stubs only)',
    },
  },
  failureExit: 125,
  async run(args, io) {
    if (args.positionals.length > 1)
      throw new MproxyError('E_USAGE', `up takes one PROFILE before --, got ${args.positionals.length}`, {
        hint: 'put the program after --: mproxy up build-box -- bash',
      });
    const intercept = args.values['intercept'];
    if (intercept !== undefined && intercept !== 'trace' && intercept !== 'path')
      throw new MproxyError('E_USAGE', `--intercept must be trace or path, not ${String(intercept)}`);
    const loaded = await loadProfileArg(args.positionals[0], io, args.values['set'] as string[] | undefined);
    const profile = loaded.profile;
    if (profile === undefined)
      throw new MproxyError('E_PROFILE_INVALID', `${loaded.file} is not valid`, { hint: `mproxy validate ${loaded.file}` });
    const program = args.rest.length > 0 ? args.rest : profile.run.program;
    // The session's parts are loaded only now: --help and other commands start fast.
    const { runUp } = await import('../../runner/up.js');
    return locatingErrors(loaded, () =>
      runUp({
        profile,
        profileName: basename(loaded.file, '.toml'),
        profileFile: loaded.file,
        live: liveOptions(loaded.file, args.values['set'], io),
        program,
        home: io.home,
        cwd: io.cwd,
        env: io.env,
        warn: (message) => io.stderr(`mproxy: warning: ${message}\n`),
        ...(io.verbose !== undefined ? { verbose: io.verbose } : {}),
        ...(intercept !== undefined ? { interception: intercept as Interception } : {}),
      }),
    );
  },
};

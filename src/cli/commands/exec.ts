/** `mproxy exec PROFILE -- CMD…`: one command on the target, stdio wired; its exit status is ours. */
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { loadProfileArg } from '../profile-arg.js';

export const execCommand: Command = {
  name: 'exec',
  summary: 'run one command on the target, stdio wired (scripts, CI)',
  usage: 'mproxy exec PROFILE [-t|-T] [--set KEY.PATH=VALUE]... -- CMD [ARGS...]',
  details: [
    'No sandbox and no mount: the command runs on the target in the workspace (the first',
    "mount's remote path; without mounts, the remote home), with the environment [env] allows.",
    'When stdin is a terminal the command gets a remote pty of the same size (raw mode, resizes',
    'followed, Ctrl-C interrupts it there); stdout and stderr then arrive merged, as on any',
    'terminal. -T turns that off; -t asks for it (it still needs stdin to be a terminal).',
    "Exit status: the command's; 128+N if a signal N killed it; 127 not found; 126 not",
    'executable; 125 mproxy itself failed (profile, connection).',
    'While `mproxy up`, `mount` or `forward` of the same profile file runs, the command runs over',
    'its connection (a live session, in milliseconds) with the profile as that session loaded it;',
    'MPROXY_NO_SESSION=1 connects afresh. --set always connects afresh.',
  ],
  options: {
    tty: { type: 'boolean', short: 't', description: 'give the command a pty (the default when stdin is a terminal)' },
    'no-tty': { type: 'boolean', short: 'T', description: 'no pty, even when stdin is a terminal: stdout and stderr stay apart' },
    set: { type: 'string', multiple: true, valueName: 'KEY.PATH=VALUE', description: 'override a profile key for this run' },
  },
  failureExit: 125,
  async run(args, io) {
    if (args.rest.length === 0) throw new MproxyError('E_USAGE', 'no command given', { hint: 'mproxy exec PROFILE -- CMD [ARGS...]' });
    if (args.positionals.length > 1)
      throw new MproxyError('E_USAGE', `exec takes one PROFILE before --, got ${args.positionals.length}`, {
        hint: 'put the command after --',
      });
    const loaded = await loadProfileArg(args.positionals[0], io, args.values['set'] as string[] | undefined);
    if (loaded.profile === undefined) throw new MproxyError('E_PROFILE_INVALID', `${loaded.file} is not valid`);
    const [{ connect }, { localTerminal, runRemoteCommand }] = await Promise.all([
      import('../../runner/connect.js'),
      import('../../runner/exec.js'),
    ]);
    const host = await connect(loaded.profile, {
      home: io.home,
      cwd: io.cwd,
      env: io.env,
      oneCommand: true,
      warn: (message) => io.stderr(`mproxy: warning: ${message}\n`),
      ...(io.verbose !== undefined ? { verbose: io.verbose } : {}),
    });
    try {
      const tty = localTerminal(args.values['no-tty'] === true ? false : args.values['tty'] === true ? true : undefined, io.env);
      return await runRemoteCommand(
        host,
        loaded.profile,
        args.rest,
        io.env,
        { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
        tty,
      );
    } finally {
      await host.close();
    }
  },
};

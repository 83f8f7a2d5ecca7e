/** `mproxy forward PROFILE`: every [[forwards]] entry, in the foreground until Ctrl-C. */
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { liveOptions } from '../live.js';
import { loadProfileArg, locatingErrors } from '../profile-arg.js';

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'forward every [[forwards]] port and socket in the foreground until Ctrl-C',
  usage: 'mproxy forward PROFILE [--set KEY.PATH=VALUE]...',
  details: [
    'to-remote entries listen here (127.0.0.1 unless a host is named) and reach the service on',
    "the remote's loopback (or a socket there); to-local entries listen on the remote and reach",
    'a service here, or the built-in HTTP proxy (service = "http-proxy"). Runs until Ctrl-C,',
    'SIGTERM or SIGHUP. A port or socket already taken is an error at the profile line that',
    'names it (exit 125). mproxy up starts the same forwards for its whole run.',
  ],
  options: {
    set: { type: 'string', multiple: true, valueName: 'KEY.PATH=VALUE', description: 'override a profile key for this run' },
  },
  failureExit: 125,
  async run(args, io) {
    if (args.positionals.length !== 1)
      throw new MproxyError('E_USAGE', 'forward takes one PROFILE', { hint: 'mproxy forward .mproxy/build-box.toml' });
    const loaded = await loadProfileArg(args.positionals[0], io, args.values['set'] as string[] | undefined);
    const profile = loaded.profile;
    if (profile === undefined)
      throw new MproxyError('E_PROFILE_INVALID', `${loaded.file} is not valid`, { hint: `mproxy validate ${loaded.file}` });
    const { runForward } = await import('../../runner/forward.js');
    const warn = (message: string): void => io.stderr(`mproxy: warning: ${message}\n`);
    return locatingErrors(loaded, () =>
      runForward(
        profile,
        {
          home: io.home,
          cwd: io.cwd,
          env: io.env,
          warn,
          live: liveOptions(loaded.file, args.values['set'], io),
          ...(io.verbose !== undefined ? { verbose: io.verbose } : {}),
        },
        {
          started: (what) => io.stderr(`mproxy: forwarding ${what}\n`),
          ready: () => io.stderr('mproxy: press Ctrl-C to stop\n'),
        },
      ),
    );
  },
};

/** `mproxy mount PROFILE`: every [[mounts]] entry at its local path, in the foreground until Ctrl-C. */
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { liveOptions } from '../live.js';
import { loadProfileArg } from '../profile-arg.js';

export const mountCommand: Command = {
  name: 'mount',
  summary: 'mount every [[mounts]] entry in the foreground until Ctrl-C',
  usage: 'mproxy mount PROFILE [--set KEY.PATH=VALUE]...',
  details: [
    'Serves each remote directory at its local path (created if missing, removed again after)',
    'until Ctrl-C, SIGTERM or SIGHUP; then unmounts. If mproxy dies anyway, a watchdog',
    'unmounts, and a mount left stale by a crash is cleaned at the next start. Without the',
    'sandbox, so other programs see the mounts too. A mount point that is not empty is refused.',
    'A mount unmounted from outside (fusermount -u) ends the command: the others are unmounted',
    'and it exits 1, saying which.',
  ],
  options: {
    set: { type: 'string', multiple: true, valueName: 'KEY.PATH=VALUE', description: 'override a profile key for this run' },
  },
  failureExit: 1,
  async run(args, io) {
    if (args.positionals.length !== 1)
      throw new MproxyError('E_USAGE', 'mount takes one PROFILE', { hint: 'mproxy mount .mproxy/build-box.toml' });
    const loaded = await loadProfileArg(args.positionals[0], io, args.values['set'] as string[] | undefined);
    const profile = loaded.profile;
    if (profile === undefined) throw new MproxyError('E_PROFILE_INVALID', `${loaded.file} is not valid`);
    if ((profile.mounts ?? []).length === 0)
      throw new MproxyError('E_USAGE', `${loaded.file} has no [[mounts]]`, { hint: 'add one: [[mounts]] remote = "/path/on/the/remote"' });
    const { runMount } = await import('../../runner/mount.js');
    const warn = (message: string): void => io.stderr(`mproxy: warning: ${message}\n`);
    const end = await runMount(
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
        mounted(points) {
          for (const p of points) io.stderr(`mproxy: ${p.remote} mounted at ${p.local}\n`);
          io.stderr('mproxy: press Ctrl-C to unmount\n');
        },
      },
    );
    if (end.kind === 'stopped') return 0;
    io.stderr(`mproxy: ${end.point} was unmounted from outside mproxy; unmounting the rest and exiting\n`);
    return 1;
  },
};

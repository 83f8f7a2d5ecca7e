/** `mproxy mount PROFILE`: every [[mounts]] entry at its local path, in the foreground until Ctrl-C. */
import { interruption, Teardown } from '../../runner/startup.js';
import { MproxyError } from '../../util/errors.js';
import { parseDuration } from '../../util/units.js';
import type { Command } from '../command.js';
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
    // Listening from the start: Ctrl-C while connecting or mounting undoes what was done (130),
    // once mounted it unmounts (0), and while unmounting it is held (Teardown).
    const stop = interruption();
    const teardown = new Teardown();
    try {
      const [{ connect }, { mountAll, mountSpecs }] = await Promise.all([
        import('../../runner/connect.js'),
        import('../../mount/mount.js'),
      ]);
      const connecting = connect(profile, {
        home: io.home,
        cwd: io.cwd,
        env: io.env,
        warn: (message) => io.stderr(`mproxy: warning: ${message}\n`),
        ...(io.verbose !== undefined ? { verbose: io.verbose } : {}),
      });
      teardown.add(() =>
        connecting.then(
          (h) => h.close(),
          () => undefined,
        ),
      );
      const host = await Promise.race([connecting, stop.promise]);
      let lost: (point: string) => void = () => undefined;
      const unmountedOutside = new Promise<string>((resolve) => (lost = resolve));
      const mounting = mountAll(host, mountSpecs(profile, host.info().home, io.home), {
        onLost: (point) => lost(point),
        opTimeoutMs: parseDuration(profile.target.op_timeout ?? '20s') ?? 20_000,
        warn: (message) => io.stderr(`mproxy: warning: ${message}\n`),
        ...(io.verbose !== undefined ? { verbose: io.verbose } : {}),
      });
      teardown.add(() =>
        mounting.then(
          (m) => m.unmount(),
          () => undefined,
        ),
      );
      const mounted = await Promise.race([mounting, stop.promise]);
      for (const [i, point] of mounted.points.entries()) io.stderr(`mproxy: ${profile.mounts?.[i]?.remote ?? ''} mounted at ${point}\n`);
      io.stderr('mproxy: press Ctrl-C to unmount\n');
      const outside = await Promise.race([unmountedOutside, stop.promise.catch(() => undefined)]);
      if (outside === undefined) {
        io.verbose?.('stopping: unmounting');
        return 0;
      }
      io.stderr(`mproxy: ${outside} was unmounted from outside mproxy; unmounting the rest and exiting\n`);
      return 1;
    } finally {
      await teardown.run();
      stop.done();
    }
  },
};

/** `mproxy mount PROFILE`: every [[mounts]] entry at its local path, in the foreground until Ctrl-C. */
import { connect } from '../../runner/connect.js';
import { mountAll, mountSpecs } from '../../mount/mount.js';
import { MproxyError } from '../../util/errors.js';
import { parseDuration } from '../../util/units.js';
import type { Command } from '../command.js';
import { loadProfileArg } from '../profile-arg.js';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const mountCommand: Command = {
  name: 'mount',
  summary: 'mount every [[mounts]] entry in the foreground until Ctrl-C',
  usage: 'mproxy mount PROFILE [--set KEY.PATH=VALUE]...',
  details: [
    'Serves each remote directory at its local path (created if missing, removed again after)',
    'until Ctrl-C, SIGTERM or SIGHUP; then unmounts. If mproxy dies anyway, a watchdog',
    'unmounts, and a mount left stale by a crash is cleaned at the next start. Without the',
    'sandbox, so other programs see the mounts too. A mount point that is not empty is refused.',
  ],
  options: {
    set: { type: 'string', multiple: true, valueName: 'KEY.PATH=VALUE', description: 'override a profile key for this run' },
  },
  failureExit: 1,
  async run(args, io) {
    if (args.positionals.length !== 1) throw new MproxyError('E_USAGE', 'mount takes one PROFILE', { hint: 'mproxy mount .mproxy/build-box.toml' });
    const loaded = loadProfileArg(args.positionals[0], io, args.values['set'] as string[] | undefined);
    const profile = loaded.profile;
    if (profile === undefined) throw new MproxyError('E_PROFILE_INVALID', `${loaded.file} is not valid`);
    if ((profile.mounts ?? []).length === 0) throw new MproxyError('E_USAGE', `${loaded.file} has no [[mounts]]`, { hint: 'add one: [[mounts]] remote = "/path/on/the/remote"' });
    const host = await connect(profile, { home: io.home, cwd: io.cwd, env: io.env, ...(io.verbose !== undefined ? { verbose: io.verbose } : {}) });
    try {
      const mounted = await mountAll(host, mountSpecs(profile, host.info().home, io.home), {
        opTimeoutMs: parseDuration(profile.target.op_timeout ?? '20s') ?? 20_000,
        ...(io.verbose !== undefined ? { verbose: io.verbose } : {}),
      });
      try {
        for (const [i, point] of mounted.points.entries()) io.stderr(`mproxy: ${profile.mounts?.[i]?.remote ?? ''} mounted at ${point}\n`);
        io.stderr('mproxy: press Ctrl-C to unmount\n');
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          for (const s of STOP_SIGNALS) process.once(s, () => resolve(s));
        });
        io.verbose?.(`${signal}: unmounting`);
      } finally {
        await mounted.unmount();
      }
      return 0;
    } finally {
      await host.close();
    }
  },
};

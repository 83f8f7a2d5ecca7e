/**
 * `mproxy up`: the program runs here, in a bubblewrap sandbox where each mount sits at its
 * local path, and every process it starts goes through the shim: run remote, or here when the
 * [sandbox] lists say so. Startup steps undo themselves on failure or Ctrl-C; the session ends
 * with the program, and everything is undone then too.
 */
import type { MountFiles } from '../broker/file-opens.js';
import { commandPolicy, type PathMap, toRemote, withCanonical } from '../broker/policy.js';
import { remoteEnv } from '../broker/env-filter.js';
import { PipePairs } from '../broker/pairing.js';
import { startBroker } from '../broker/server.js';
import { openRecording } from '../recording/session.js';
import { mountAll, type Mounted, type MountSpec } from '../mount/mount.js';
import { cwdMount, mountsOn, settingsOf } from '../profile/runtime.js';
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';
import { bwrapArgs } from '../sandbox/bwrap.js';
import { requireNativeTool, tracerAvailable } from '../sandbox/native.js';
import { fuseBinding } from '../mount/native.js';
import { createSessionDir, type SessionDir } from '../sandbox/session-dir.js';
import { writeStubs } from '../sandbox/stubs.js';
import { MproxyError } from '../util/errors.js';
import { findExecutable } from '../util/paths.js';
import { connect } from './connect.js';
import { runProgram } from './program.js';
import { serveLiveSession, type LiveOptions } from './live-session.js';
import { startSessionForwards } from './session-forwards.js';
import { interruption, runSteps, Teardown, type Step } from './startup.js';

export type Interception = 'trace' | 'path';

export interface UpOptions {
  readonly profile: Profile;
  readonly profileName: string;
  readonly program: readonly string[];
  readonly home: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly verbose?: (message: string) => void;
  /** Problems that do not stop the session (a recording that could not be written on). */
  readonly warn: (message: string) => void;
  readonly interception?: Interception;
  /** The profile file (recordings name it and start from its project root). */
  readonly profileFile: string;
  /** Serve the connection as the profile's live session too. */
  readonly live?: LiveOptions | undefined;
}

interface Session {
  /** Found on this machine before anything remote: bwrap, the program, the helpers. */
  bwrapPath?: string;
  programPath?: string;
  shim?: string;
  launcher?: string;
  host?: RemoteHost;
  dir?: SessionDir;
  specs?: MountSpec[];
  mounted?: Mounted;
  bwrap?: string[];
  programEnv?: Record<string, string>;
  /** Variables the forwards give remote commands (HTTP_PROXY, SSH_AUTH_SOCK). */
  forwardEnv?: Readonly<Record<string, string>>;
}

/** Variables a shell changes by itself: a change to them is not a reason to send them. */
const NOT_SENT_FOR_CHANGING = ['PATH', 'PWD', 'OLDPWD', 'SHLVL', '_'];

/** The mounts: the profile's, or the current directory at the same path on both sides. */
function specsOf(profile: Profile, remoteHome: string, cwd: string): MountSpec[] {
  const specs = mountsOn(settingsOf(profile), remoteHome);
  return specs.length > 0 ? specs : [cwdMount(cwd)];
}

function steps(o: UpOptions, interception: Interception, s: Session, teardown: Teardown): Step<Session>[] {
  const host = (): RemoteHost => s.host as RemoteHost;
  const dir = (): SessionDir => s.dir as SessionDir;
  const path = o.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
  return [
    {
      title: 'Check this machine',
      run: async () => {
        // Cheap and local: a missing bwrap, program or helper is said before any remote work.
        const bwrapPath = await findExecutable('bwrap', path.split(':'));
        if (bwrapPath === undefined)
          throw new MproxyError('E_SANDBOX', 'bwrap (bubblewrap) is not installed', {
            hint: ['apt-get install bubblewrap', 'mproxy doctor checks what the sandbox needs'],
          });
        const program = o.program[0] ?? '';
        const programPath = program.includes('/') ? program : await findExecutable(program, path.split(':'));
        if (programPath === undefined)
          throw new MproxyError('E_COMMAND_NOT_FOUND', `${program}: command not found here (the program runs locally)`, {
            hint: 'install it, or give its absolute path after --',
          });
        Object.assign(s, { bwrapPath, programPath, shim: requireNativeTool('mproxy-shim'), launcher: requireNativeTool('mproxy-trace') });
        fuseBinding();
      },
    },
    {
      title: `Connect to ${o.profile.target.uri}`,
      run: async (_, title) => {
        const pending = connect(o.profile, {
          home: o.home,
          cwd: o.cwd,
          env: o.env,
          warn: o.warn,
          ...(o.verbose !== undefined ? { verbose: o.verbose } : {}),
        });
        // Should Ctrl-C win the race, a connection that arrives later is closed (not waited for).
        teardown.add(
          () =>
            void pending.then(
              (h) => h.close(),
              () => undefined,
            ),
        );
        s.host = await pending;
        if (o.live !== undefined) {
          const live = await serveLiveSession(s.host, o.profile, o.live, o.verbose);
          teardown.add(() => live?.close());
        }
        const info = s.host.info();
        title(`Connected to ${o.profile.target.uri} (${info.tier}, ${info.platform}/${info.arch})`);
      },
    },
    {
      title: 'Make the session directory',
      run: async () => {
        s.specs = specsOf(o.profile, host().info().home, o.cwd);
        s.dir = createSessionDir(
          s.shim ?? '',
          o.env,
          s.specs.map((m) => m.local),
        );
        teardown.add(() => s.dir?.remove());
      },
    },
    {
      title: 'Probe the remote commands',
      run: async (_, title) => {
        const remoteOnly = await writeStubs(host(), dir().stubs, dir().shim, o.env['PATH'] ?? '', interception === 'path');
        title(`Probed the remote: ${remoteOnly} commands exist only there`);
      },
    },
    {
      title: 'Mount the workspace',
      run: async (_, title) => {
        const specs = s.specs ?? [];
        const pending = mountAll(host(), specs, {
          opTimeoutMs: settingsOf(o.profile).opTimeoutMs,
          at: specs.map((_, i) => dir().mountPoint(i)),
          warn: o.warn,
          onLost: (point) =>
            o.warn(`the mount served at ${point} was unmounted from outside mproxy: the program no longer sees the remote there`),
          ...(o.verbose !== undefined ? { verbose: o.verbose } : {}),
        });
        teardown.addPending(pending, (m) => m.unmount());
        s.mounted = await pending;
        title(`Mounted ${specs.map((m) => `${m.remote} at ${m.local}`).join(', ')}`);
      },
    },
    {
      title: 'Forward ports',
      run: async (_, title) => {
        const pending = startSessionForwards(host(), o.profile, o.env, {
          // A line of its own even on a raw terminal.
          announce: (line) => process.stderr.write(`mproxy: ${line}\r\n`),
          ...(o.verbose !== undefined ? { verbose: o.verbose } : {}),
        });
        teardown.addPending(pending, (f) => f.close());
        const forwards = await pending;
        s.forwardEnv = forwards.env;
        title(forwards.summary);
      },
    },
    {
      title: 'Build the sandbox',
      run: async () => {
        const specs = s.specs ?? [];
        const programPath = s.programPath ?? '';
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v;
        env['PATH'] = interception === 'trace' ? `${path}:${dir().stubs}` : `${dir().stubs}:${path}`;
        env['MPROXY_PROFILE'] = o.profileName;
        s.programEnv = env;
        const info = host().info();
        const envOf = remoteEnv(info, o.profile.env);
        const workspace = specs[0]?.remote ?? info.home;
        const recording = openRecording(o.profile, o.profileName, o.profileFile, o.warn);
        if (recording !== undefined) {
          teardown.add(() => recording.close());
          o.verbose?.(`recording to ${recording.path}`);
        }
        // The mounts as given and as the kernel names them (symlinks resolved): resolved once.
        const maps = withCanonical(specs);
        const broker = await startBroker(dir().socket, {
          host: host(),
          token: dir().token,
          decide: commandPolicy({ sandbox: o.profile.sandbox, mounts: maps, stubDir: dir().stubs, workspace }),
          remoteEnv: (cmdEnv) => {
            const baseline: Record<string, string | undefined> = { ...env };
            for (const k of NOT_SENT_FOR_CHANGING) baseline[k] = cmdEnv[k];
            return { ...envOf(cmdEnv, baseline), ...s.forwardEnv };
          },
          ...(recording !== undefined ? { observer: recording } : {}),
          ...(o.verbose !== undefined ? { verbose: o.verbose } : {}),
          ...(info.capabilities.includes('pipes') ? { pairs: new PipePairs() } : {}),
          ...(info.capabilities.includes('files') && s.mounted !== undefined ? { files: mountFiles(maps, s.mounted) } : {}),
        });
        teardown.add(() => broker.close());
        const inMount = toRemote(o.cwd, maps) !== undefined;
        const chdir = o.profile.sandbox.working_dir ?? (inMount ? o.cwd : (specs[0]?.local ?? o.cwd));
        const launcher = s.launcher ?? '';
        const command =
          interception === 'trace'
            ? [launcher, dir().shim, dir().pending, '--', programPath, ...o.program.slice(1)]
            : [launcher, '--no-trace', '--', programPath, ...o.program.slice(1)];
        s.bwrap = bwrapArgs({ binds: specs.map((m, i) => ({ source: dir().mountPoint(i), target: m.local })), chdir, command });
      },
    },
  ];
}

/** Redirections to and from the mounts, as the broker opens them on the remote (broker/file-opens.ts). */
function mountFiles(maps: readonly PathMap[], mounted: Mounted): MountFiles {
  return {
    remotePath: (local) => toRemote(local, maps),
    changed: async (local) => {
      const remote = toRemote(local, maps);
      if (remote !== undefined) await mounted.changedThere(remote);
    },
  };
}

export async function runUp(o: UpOptions): Promise<number> {
  const interception = o.interception ?? (tracerAvailable() ? 'trace' : 'path');
  const teardown = new Teardown();
  const session: Session = {};
  // Listening from startup to the end of teardown: a signal never finds mproxy without a
  // handler (the default action would kill it with the session half up).
  const stop = interruption();
  try {
    await runSteps(steps(o, interception, session, teardown), session, {
      plain: o.verbose !== undefined || process.stderr.isTTY !== true,
      interrupted: stop.promise,
    });
    o.verbose?.(`interception: ${interception}; running ${o.program.join(' ')}`);
    return await runProgram(session.bwrapPath ?? 'bwrap', session.bwrap ?? [], session.programEnv ?? {});
  } finally {
    await teardown.run();
    stop.done();
  }
}

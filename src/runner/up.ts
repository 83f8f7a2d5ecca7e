/**
 * `mproxy up`: the program runs here, in a bubblewrap sandbox where each mount sits at its
 * local path, and every process it starts goes through the shim: run remote, or here when the
 * [sandbox] lists say so. Startup steps undo themselves on failure or Ctrl-C; the session ends
 * with the program, and everything is undone then too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { envFilter } from '../broker/env-filter.js';
import { commandPolicy, toRemote, withCanonical } from '../broker/policy.js';
import { startBroker } from '../broker/server.js';
import { signalNumber } from '../broker/signals.js';
import { openRecording } from '../recording/session.js';
import { mountAll, mountSpecs, type MountSpec } from '../mount/mount.js';
import type { Profile } from '../profile/schema.js';
import type { RemoteHost } from '../remote/host.js';
import { bwrapArgs } from '../sandbox/bwrap.js';
import { requireNativeTool, tracerAvailable } from '../sandbox/native.js';
import { createSessionDir, type SessionDir } from '../sandbox/session-dir.js';
import { writeStubs } from '../sandbox/stubs.js';
import { MproxyError } from '../util/errors.js';
import { findExecutable } from '../util/paths.js';
import { groupStopped, ownProcessGroup, processStopped } from '../util/process.js';
import { parseDuration } from '../util/units.js';
import { connect } from './connect.js';
import { remoteLoginEnv } from './exec.js';
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
}

interface Session {
  host?: RemoteHost;
  dir?: SessionDir;
  specs?: MountSpec[];
  bwrap?: string[];
  programEnv?: Record<string, string>;
}

/** Variables a shell changes by itself: a change to them is not a reason to send them. */
const NOT_SENT_FOR_CHANGING = ['PATH', 'PWD', 'OLDPWD', 'SHLVL', '_'];

/** The mounts: the profile's, or the current directory at the same path on both sides. */
function specsOf(profile: Profile, remoteHome: string, home: string, cwd: string): MountSpec[] {
  const specs = mountSpecs(profile, remoteHome, home);
  return specs.length > 0 ? specs : [{ remote: cwd, local: cwd, readOnly: false, owner: 'local', ttlMs: 1000 }];
}

function steps(o: UpOptions, interception: Interception, s: Session, teardown: Teardown): Step<Session>[] {
  const host = (): RemoteHost => s.host as RemoteHost;
  const dir = (): SessionDir => s.dir as SessionDir;
  return [
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
        const info = s.host.info();
        title(`Connected to ${o.profile.target.uri} (${info.tier}, ${info.platform}/${info.arch})`);
      },
    },
    {
      title: 'Probe the remote commands',
      run: async (_, title) => {
        s.specs = specsOf(o.profile, host().info().home, o.home, o.cwd);
        s.dir = createSessionDir(
          requireNativeTool('mproxy-shim'),
          o.env,
          s.specs.map((m) => m.local),
        );
        teardown.add(() => s.dir?.remove());
        const remoteOnly = await writeStubs(host(), dir().stubs, dir().shim, o.env['PATH'] ?? '', interception === 'path');
        title(`Probed the remote: ${remoteOnly} commands exist only there`);
      },
    },
    {
      title: 'Mount the workspace',
      run: async (_, title) => {
        const specs = s.specs ?? [];
        const pending = mountAll(host(), specs, {
          opTimeoutMs: parseDuration(o.profile.target.op_timeout ?? '20s') ?? 20_000,
          at: specs.map((_, i) => dir().mountPoint(i)),
          warn: o.warn,
          onLost: (point) =>
            o.warn(`the mount served at ${point} was unmounted from outside mproxy: the program no longer sees the remote there`),
          ...(o.verbose !== undefined ? { verbose: o.verbose } : {}),
        });
        teardown.add(() =>
          pending.then(
            (m) => m.unmount(),
            () => undefined,
          ),
        );
        await pending;
        title(`Mounted ${specs.map((m) => `${m.remote} at ${m.local}`).join(', ')}`);
      },
    },
    {
      title: 'Build the sandbox',
      run: async () => {
        const specs = s.specs ?? [];
        const path = o.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
        const program = o.program[0] ?? '';
        const programPath = program.includes('/') ? program : await findExecutable(program, path.split(':'));
        if (programPath === undefined)
          throw new MproxyError('E_COMMAND_NOT_FOUND', `${o.program[0] ?? ''}: command not found here (the program runs locally)`, {
            hint: 'install it, or give its absolute path after --',
          });
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v;
        env['PATH'] = interception === 'trace' ? `${path}:${dir().stubs}` : `${dir().stubs}:${path}`;
        env['MPROXY_PROFILE'] = o.profileName;
        s.programEnv = env;
        const info = host().info();
        const filter = envFilter(o.profile.env);
        const login = remoteLoginEnv(info);
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
            return { ...login, ...filter(cmdEnv, baseline) };
          },
          ...(recording !== undefined ? { observer: recording } : {}),
          ...(o.verbose !== undefined ? { verbose: o.verbose } : {}),
        });
        teardown.add(() => broker.close());
        const inMount = toRemote(o.cwd, maps) !== undefined;
        const chdir = o.profile.sandbox.working_dir ?? (inMount ? o.cwd : (specs[0]?.local ?? o.cwd));
        const launcher = requireNativeTool('mproxy-trace');
        const command =
          interception === 'trace'
            ? [launcher, dir().shim, dir().pending, '--', programPath, ...o.program.slice(1)]
            : [launcher, '--no-trace', '--', programPath, ...o.program.slice(1)];
        s.bwrap = bwrapArgs({ binds: specs.map((m, i) => ({ source: dir().mountPoint(i), target: m.local })), chdir, command });
      },
    },
  ];
}

/**
 * Stops this process once the sandbox has stopped, and with it everything else of the job (a
 * command still stopping would find the shell holding the terminal): within 2 s. A program that
 * handles Ctrl-Z itself and runs on keeps mproxy running, as its mounts must be served.
 */
async function stopWithJob(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  // Leading a job (a shell's): all of it, bwrap included; else bwrap alone.
  const atRest = ownProcessGroup() === process.pid ? () => groupStopped(process.pid, process.pid) : () => processStopped(pid);
  for (const end = Date.now() + 2000; Date.now() < end; await sleep(20)) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (atRest()) {
      process.kill(process.pid, 'SIGSTOP');
      return;
    }
  }
}

/** SIGCONT to the job (the sandbox and everything in it, stopped or not); to bwrap alone without one. */
function continueJob(child: ChildProcess): void {
  const group = ownProcessGroup();
  try {
    if (group !== undefined && group === process.pid) process.kill(-group, 'SIGCONT');
    else child.kill('SIGCONT');
  } catch {
    // Gone already.
  }
}

/** Runs bwrap in the foreground; its exit status (128+N for a signal) is the session's. */
function runProgram(bwrap: string, args: readonly string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    // cwd "/": never a directory inside a mount this process serves (spawn would wait on it).
    // Descriptors leaked past exec (libfuse's /dev/fuse) are closed by mproxy-trace inside.
    const child = spawn(bwrap, args, { stdio: 'inherit', env, cwd: '/' });
    // The terminal's signals reach the program directly; mproxy waits for it to end.
    const ignore = (): void => undefined;
    // SIGTERM/SIGHUP are passed on, with SIGCONT after: a stopped job would hold them forever.
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
      continueJob(child);
    };
    // Ctrl-Z stops the program and the sandbox (the terminal signals the whole job); mproxy
    // stops with them, so the shell gets its prompt back, and `fg` continues all of it.
    const suspend = (): void => void stopWithJob(child);
    const quiet: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];
    const passed: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];
    for (const sig of quiet) process.on(sig, ignore);
    for (const sig of passed) process.on(sig, forward);
    process.on('SIGTSTP', suspend);
    const done = (): void => {
      for (const sig of quiet) process.off(sig, ignore);
      for (const sig of passed) process.off(sig, forward);
      process.off('SIGTSTP', suspend);
    };
    child.once('error', (err) => {
      done();
      reject(
        new MproxyError('E_SANDBOX', `cannot start bwrap: ${err.message}`, {
          hint: ['install bubblewrap (apt-get install bubblewrap)', 'mproxy doctor checks it'],
        }),
      );
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal === null ? 0 : (signalNumber(signal) ?? 0)));
    });
  });
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
    const bwrap = await Promise.race([findExecutable('bwrap', (o.env['PATH'] ?? '/usr/bin:/bin').split(':')), stop.promise]);
    if (bwrap === undefined)
      throw new MproxyError('E_SANDBOX', 'bwrap (bubblewrap) is not installed', {
        hint: ['apt-get install bubblewrap', 'mproxy doctor checks what the sandbox needs'],
      });
    return await runProgram(bwrap, session.bwrap ?? [], session.programEnv ?? {});
  } finally {
    await teardown.run();
    stop.done();
  }
}

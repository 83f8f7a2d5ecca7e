/**
 * Mounting a profile's [[mounts]]: each remote directory served by FUSE (our libfuse 3
 * binding, filesystem.ts) at its local path. A mount point that is missing is created (and
 * removed again after); one left stale by a crash is cleaned first; a busy or non-empty one is
 * refused. libfuse's auto_unmount keeps a watchdog (fusermount3) that unmounts even if mproxy
 * is killed outright, and a watchdog of ours does the same where that cannot; unmount() and
 * the exit hook cover every other way out. A failure part-way unmounts what was already mounted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import type { MountSetting } from '../profile/runtime.js';
import type { RemoteHost } from '../remote/host.js';
import { MproxyError, messageOf } from '../util/errors.js';
import { MountFs } from './filesystem.js';
import { Kernel } from './kernel.js';
import { fuseBinding, StartFlag, type FuseSession } from './native.js';

/** One mount to make: a profile's [[mounts]] entry with its remote path against the remote home. */
export type MountSpec = MountSetting;

const FSNAME = 'mproxy';

/** Mount points of FUSE filesystems named mproxy, from /proc/self/mountinfo. */
function mproxyMounts(): Set<string> {
  const out = new Set<string>();
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of info.split('\n')) {
    const [left = '', right = ''] = line.split(' - ');
    const point = left.split(' ')[4];
    const [fstype = '', source = ''] = right.split(' ');
    if (point !== undefined && fstype.startsWith('fuse') && source === FSNAME)
      out.add(point.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

function fusermountUnmount(point: string): boolean {
  return spawnSync('fusermount3', ['-u', '-z', point], { stdio: 'ignore' }).status === 0;
}

/**
 * A process outside ours that unmounts `points` once mproxy is gone however it went (even
 * SIGKILL), should fusermount3's own auto_unmount watcher be gone too.
 */
function watchdog(points: readonly string[]): { stop(): void } {
  const script = 'while kill -0 "$0" 2>/dev/null; do sleep 0.5; done; for p; do fusermount3 -u -z "$p" 2>/dev/null; done';
  const child = spawn('/bin/sh', ['-c', script, String(process.pid), ...points], { detached: true, stdio: 'ignore' });
  child.unref();
  return {
    stop: () => {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

/** Clears what an earlier crash left at `point`; refuses a live mount or a non-empty directory. */
function prepare(point: string): boolean {
  if (mproxyMounts().has(point)) {
    let stale = false;
    try {
      statSync(point);
    } catch (err) {
      stale = (err as NodeJS.ErrnoException).code === 'ENOTCONN';
    }
    if (!stale)
      throw new MproxyError('E_MOUNT', `${point} is already mounted by another mproxy`, {
        hint: 'stop that session first, or mount somewhere else (mounts.local)',
      });
    if (!fusermountUnmount(point))
      throw new MproxyError('E_MOUNT', `${point} is a stale mount that could not be cleaned`, { hint: `run: fusermount3 -u -z ${point}` });
  }
  try {
    if (readdirSync(point).length > 0)
      throw new MproxyError('E_MOUNT', `${point} is not empty: mounting there would hide its files`, {
        hint: 'empty it, or set mounts.local to another directory',
      });
    return false;
  } catch (err) {
    if (err instanceof MproxyError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new MproxyError('E_MOUNT', `cannot use ${point} as a mount point: ${messageOf(err)}`);
    mkdirSync(point, { recursive: true });
    return true;
  }
}

export interface Mounted {
  readonly points: readonly string[];
  readonly filesystems: readonly MountFs[];
  /** The file at remote path `remote` was written there: every mount holding it drops what it knows. */
  changedThere(remote: string): Promise<void>;
  unmount(): Promise<void>;
}

export interface MountOptions {
  readonly opTimeoutMs: number;
  /** Where to serve each mount instead of its local path (`mproxy up` binds them there in the sandbox). */
  readonly at?: readonly string[];
  readonly verbose?: (message: string) => void;
  /** Said whatever the verbosity: problems that do not stop a mount. */
  readonly warn?: (message: string) => void;
  /** A mount ended without unmount() (`fusermount -u` by a user, a script, the system). */
  readonly onLost?: (point: string) => void;
}

interface Live {
  readonly point: string;
  readonly session: FuseSession;
  readonly kernel: Kernel;
  readonly fs: MountFs;
  readonly created: boolean;
}

function run(command: string, args: readonly string[]): Promise<boolean> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', () => resolveRun(false));
    child.on('close', (code) => resolveRun(code === 0));
  });
}

async function until(done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Ends one mount: writes still held go out (within the deadline), the kernel lets go while
 * the session still answers (an unmount may send requests of its own), then the session ends.
 */
async function stop(m: Live, opTimeoutMs: number): Promise<void> {
  await Promise.race([m.fs.flushAll(), new Promise((r) => setTimeout(r, opTimeoutMs).unref())]);
  if (!(await run('fusermount3', ['-u', m.point]))) await run('fusermount3', ['-u', '-z', m.point]);
  await until(() => m.fs.exited, 1000);
  fuseBinding().close(m.session);
  m.kernel.stop();
  await m.fs.close();
}

/**
 * Sequential reads come as requests of the readahead window: the default 128 KiB makes a
 * remote stream a quarter as fast as 1 MiB ones. Raised where permitted (root); else left.
 */
function widenReadahead(point: string): void {
  try {
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === point);
    const dev = line?.split(' ')[2];
    if (dev !== undefined && /^\d+:\d+$/.test(dev)) writeFileSync(`/sys/class/bdi/${dev}/read_ahead_kb`, '4096');
  } catch {
    // Not root, or no sysfs: reads stay at the kernel's default window.
  }
}

function mountOptions(spec: MountSpec): string {
  return [
    `fsname=${FSNAME}`,
    `subtype=${FSNAME}`,
    'default_permissions',
    'auto_unmount',
    ...(spec.allowOther ? ['allow_other'] : []),
    ...(spec.readOnly ? ['ro'] : []),
  ].join(',');
}

function mountFailure(point: string, spec: MountSpec, err: unknown): MproxyError {
  const hints = ['is /dev/fuse there and fusermount3 installed (apt-get install fuse3)?', 'mproxy doctor checks both'];
  if (spec.allowOther && process.getuid?.() !== 0) hints.unshift('allow_other needs "user_allow_other" in /etc/fuse.conf when not root');
  return new MproxyError('E_MOUNT', `cannot mount at ${point}: ${messageOf(err)}`, { hint: hints, cause: err });
}

export async function mountAll(host: RemoteHost, specs: readonly MountSpec[], options: MountOptions): Promise<Mounted> {
  const done: Live[] = [];
  const info = host.info();
  let unmounted = false;
  const points = specs.map((s, i) => options.at?.[i] ?? s.local);
  const guard = watchdog(points);
  const unmountNow = (): void => {
    for (const m of done) fusermountUnmount(m.point);
  };
  process.once('exit', unmountNow);
  const unmount = async (): Promise<void> => {
    if (unmounted) return;
    unmounted = true;
    process.off('exit', unmountNow);
    guard.stop();
    for (const m of done.reverse()) {
      await stop(m, options.opTimeoutMs);
      if (mproxyMounts().has(m.point)) fusermountUnmount(m.point);
      if (m.created) rmdirSync(m.point, { recursive: false });
      options.verbose?.(`unmounted ${m.point}`);
    }
  };
  try {
    for (const [i, spec] of specs.entries()) {
      const point = points[i] ?? spec.local;
      const st = await host.fs.call('stat', Buffer.from(spec.remote)).catch((err: unknown) => {
        throw new MproxyError('E_MOUNT', `cannot mount ${spec.remote}: ${messageOf(err)}`, {
          hint: 'check mounts.remote: it must be an existing directory on the remote',
        });
      });
      if ((st.mode & 0o170000) !== 0o040000) throw new MproxyError('E_MOUNT', `cannot mount ${spec.remote}: not a directory on the remote`);
      const binding = fuseBinding();
      const created = prepare(point);
      const ids =
        spec.owner === 'local' &&
        info.uid !== undefined &&
        info.gid !== undefined &&
        process.getuid !== undefined &&
        process.getgid !== undefined
          ? { remoteUid: info.uid, remoteGid: info.gid, localUid: process.getuid(), localGid: process.getgid() }
          : undefined;
      let fs: MountFs | undefined;
      let session: FuseSession;
      // The kernel's writeback cache where change notices say when a file changed remotely;
      // without them, close-to-open: what a file held at its last open may be stale.
      const noticed = info.capabilities.includes('watch');
      const writeback = info.tier === 'agent' && noticed;
      const flags = (writeback ? StartFlag.Writeback : 0) | (noticed ? 0 : StartFlag.CloseToOpen);
      try {
        session = binding.start(point, mountOptions(spec), flags, (batch) => fs?.dispatch(batch));
      } catch (err) {
        fusermountUnmount(point);
        if (created) rmdirSync(point);
        throw mountFailure(point, spec, err);
      }
      const kernel = new Kernel(binding, session, options.opTimeoutMs, ids);
      fs = new MountFs(host, kernel, {
        remoteRoot: spec.remote,
        ttlS: spec.ttlMs / 1000,
        opTimeoutMs: options.opTimeoutMs,
        prefetch: info.tier === 'agent',
        writeback,
        ...(options.warn !== undefined ? { warn: options.warn } : {}),
        onExited: () => {
          if (!unmounted) options.onLost?.(point);
        },
      });
      fs.nodes.root.attr = st;
      widenReadahead(point);
      done.push({ point, session, kernel, fs, created });
      options.verbose?.(`mounted ${spec.remote} at ${point}`);
    }
  } catch (err) {
    await unmount();
    throw err;
  }
  return {
    points: done.map((m) => m.point),
    filesystems: done.map((m) => m.fs),
    changedThere: async (remote) => {
      const changes = done.map((m, i) => {
        const root = (specs[i]?.remote ?? '').replace(/\/+$/, '');
        return remote.startsWith(`${root}/`) ? m.fs.invalidation.changedThere(remote.slice(root.length)) : undefined;
      });
      await Promise.all(changes);
    },
    unmount,
  };
}

/**
 * What `mproxy doctor` checks on this machine: each check says what it found, what a missing
 * piece breaks, and the exact fix. It reads this machine (PATH from the given env, /proc,
 * /dev/fuse, the built helpers); the tests run it here and with an empty PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { fuseBinding } from '../mount/native.js';
import { nativeToolPath, tracerAvailable } from '../sandbox/native.js';
import { messageOf } from '../util/errors.js';
import { findExecutableSync } from '../util/paths.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What does not work without it, and how to fix it (for warn and fail). */
  readonly fix?: string;
}

export function which(command: string, env: NodeJS.ProcessEnv): string | undefined {
  return findExecutableSync(command, (env['PATH'] ?? '').split(delimiter));
}

function readNumber(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Our libfuse 3 binding loads (it was built, and libfuse3.so.3 is installed). */
function fuseBindingCheck(): CheckResult {
  try {
    fuseBinding();
    return { name: 'libfuse3', status: 'ok', detail: 'the FUSE binding loads' };
  } catch (err) {
    const cause = err instanceof Error && err.cause !== undefined ? `: ${messageOf(err.cause).split('\n')[0] ?? ''}` : '';
    return {
      name: 'libfuse3',
      status: 'fail',
      detail: `the FUSE binding does not load${cause}`,
      fix: 'mounts cannot work; install libfuse 3: apt-get install fuse3 libfuse3-3 (building it needs libfuse3-dev: npm run build)',
    };
  }
}

export function localChecks(env: NodeJS.ProcessEnv): CheckResult[] {
  const results: CheckResult[] = [];
  const node = Number(process.versions.node.split('.')[0]);
  results.push(
    node >= 20
      ? { name: 'node', status: 'ok', detail: `node ${process.versions.node}` }
      : { name: 'node', status: 'fail', detail: `node ${process.versions.node}`, fix: 'mproxy needs Node.js >= 20 locally' },
  );

  const bwrap = which('bwrap', env);
  results.push(
    bwrap !== undefined
      ? { name: 'bubblewrap', status: 'ok', detail: bwrap }
      : {
          name: 'bubblewrap',
          status: 'fail',
          detail: 'bwrap not found on PATH',
          fix: '`mproxy up` cannot build its sandbox; install it: apt-get install bubblewrap',
        },
  );

  const restricted = readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  const maxUserNs = readNumber('/proc/sys/user/max_user_namespaces');
  if (restricted === 1 && process.getuid?.() !== 0) {
    results.push({
      name: 'user namespaces',
      status: 'fail',
      detail: 'AppArmor restricts unprivileged user namespaces',
      fix:
        'bwrap cannot start; allow them: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor ' +
        'profile for bwrap)',
    });
  } else if (maxUserNs === 0) {
    results.push({
      name: 'user namespaces',
      status: 'fail',
      detail: 'user.max_user_namespaces is 0',
      fix: 'bwrap cannot start; enable them: sudo sysctl -w user.max_user_namespaces=15000',
    });
  } else {
    results.push({ name: 'user namespaces', status: 'ok', detail: maxUserNs === undefined ? 'no limit found' : `up to ${maxUserNs}` });
  }

  results.push(
    existsSync('/dev/fuse')
      ? { name: '/dev/fuse', status: 'ok', detail: 'present' }
      : {
          name: '/dev/fuse',
          status: 'fail',
          detail: 'missing',
          fix: 'mounts cannot work; load the module: sudo modprobe fuse (in a container: --device /dev/fuse)',
        },
  );
  const fusermount = which('fusermount3', env) ?? which('fusermount', env);
  results.push(
    fusermount !== undefined
      ? { name: 'fusermount', status: 'ok', detail: fusermount }
      : {
          name: 'fusermount',
          status: 'fail',
          detail: 'not found on PATH',
          fix: 'mounts cannot be made or removed; install it: apt-get install fuse3',
        },
  );
  results.push(fuseBindingCheck());

  const sock = env['SSH_AUTH_SOCK'];
  results.push(
    sock !== undefined && sock !== '' && existsSync(sock)
      ? { name: 'ssh-agent', status: 'ok', detail: sock }
      : {
          name: 'ssh-agent',
          status: 'warn',
          detail: sock === undefined || sock === '' ? 'SSH_AUTH_SOCK is not set' : `${sock} does not exist`,
          fix:
            'keys are read from files instead; an encrypted key asks for its passphrase on the terminal each time (start one: ' +
            'eval "$(ssh-agent)"; ssh-add)',
        },
  );
  results.push(...interceptionChecks());
  return results;
}

const PATH_MODE_GAPS =
  'commands run by absolute or relative path (/usr/bin/git, ./build.sh), #! scripts run by path, and execs by static binaries stay local';

/** The native helpers and whether the exec tracer (seccomp + ptrace) can run here. */
function interceptionChecks(): CheckResult[] {
  const shim = nativeToolPath('mproxy-shim');
  if (!existsSync(shim))
    return [
      {
        name: 'native helpers',
        status: 'fail',
        detail: `${shim} is missing`,
        fix: '`mproxy up` cannot run commands remotely; build them: npm run build (needs gcc, make, libc6-dev)',
      },
    ];
  if (!tracerAvailable())
    return [
      {
        name: 'interception',
        status: 'warn',
        detail: `PATH stubs only (tracing needs x86_64 Linux; this is ${process.platform}/${process.arch})`,
        fix: `${PATH_MODE_GAPS}; list them in local_commands or run them by name`,
      },
    ];
  // The program's own first exec passes through untouched: /bin/true exits 0 if tracing works.
  const probe = spawnSync(nativeToolPath('mproxy-trace'), [shim, '/nonexistent', '--', 'true'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 5000,
  });
  if (probe.status === 0) return [{ name: 'interception', status: 'ok', detail: 'seccomp + ptrace: every exec is caught' }];
  return [
    {
      name: 'interception',
      status: 'warn',
      detail: `the tracer cannot run here (${probe.stderr.trim() || `exit ${String(probe.status)}`}); PATH stubs only`,
      fix: `${PATH_MODE_GAPS}. ptrace may be blocked: check kernel.yama.ptrace_scope (<= 1 works) and the container's seccomp profile`,
    },
  ];
}

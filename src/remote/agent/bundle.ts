/**
 * What mproxy puts on a remote's ~/.cache/mproxy: the agent as built (dist/agent/mproxy-agent.cjs)
 * and, for remotes of this machine's kind, the static pty helper (build/Release/mproxy-pty).
 * Both content-addressed, so sessions never clash and nothing is uploaded twice.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MproxyError } from '../../util/errors.js';
import { packagePath } from '../../util/package-path.js';

export interface Payload {
  readonly path: string;
  readonly bytes: Buffer;
  readonly sha256: string;
  /** File name in the remote cache. */
  readonly cacheName: string;
}

function payload(path: string, prefix: string, suffix: string): Payload {
  const bytes = readFileSync(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path, bytes, sha256, cacheName: `${prefix}-${sha256.slice(0, 32)}${suffix}` };
}

/**
 * How node runs the agent, and mproxy itself (main.ts's first line says the same). Every MiB
 * a file read or write moves allocates a buffer outside V8's heap, and V8 starts a full
 * collection whenever such allocations pass a slack computed from the heap's own size, which
 * for these small heaps is ~15 MB: ~60 collections per 512 MiB read, a fifth of mproxy's CPU.
 * A larger initial old space raises the slack; it reserves nothing.
 */
export const NODE_FLAGS = ['--initial-old-space-size=64'] as const;

let agent: Payload | undefined;

export function agentBundle(): Payload {
  if (agent !== undefined) return agent;
  const path = packagePath('dist/agent/mproxy-agent.cjs');
  try {
    agent = payload(path, 'agent', '.cjs');
  } catch (err) {
    throw new MproxyError('E_AGENT_START', `the agent bundle is missing (${path})`, { hint: 'run `npm run build`', cause: err });
  }
  return agent;
}

/** `uname -m` names of the architectures Node calls by its own names. */
const UNAME_ARCH: Readonly<Record<string, readonly string[]>> = {
  x64: ['x86_64', 'amd64'],
  arm64: ['aarch64', 'arm64'],
  ia32: ['i386', 'i486', 'i586', 'i686'],
  arm: ['armv7l', 'armv6l'],
  riscv64: ['riscv64'],
  s390x: ['s390x'],
  ppc64: ['ppc64le'],
};

let helper: Payload | null | undefined;

/** The pty helper when it was built; undefined when it was not (no C compiler at install). */
export function ptyHelper(): Payload | undefined {
  if (helper === undefined) {
    try {
      helper = payload(packagePath('build/Release/mproxy-pty'), 'pty', '');
    } catch {
      helper = null;
    }
  }
  return helper ?? undefined;
}

/** The `uname -m` names of this machine's architecture (where the helper built here runs). */
export function helperMachines(): readonly string[] {
  return UNAME_ARCH[process.arch] ?? [];
}

/** Can the helper built here run on a remote that says `uname -s` = system, `uname -m` = machine? */
export function helperRunsOn(system: string, machine: string): boolean {
  return process.platform === 'linux' && system === 'Linux' && (UNAME_ARCH[process.arch] ?? []).includes(machine);
}

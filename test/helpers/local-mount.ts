/**
 * A temporary remote directory mounted through the local agent (the agent tier, real FUSE), for
 * tests of the mount itself: `prepare` fills the remote before it is mounted. Registers the
 * hooks that make it and take it down; everything removed lies inside the temporary directory
 * made here, and nothing is removed while the mount may still be there.
 */
import { mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { mountAll, type Mounted } from '../../src/mount/mount.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { connectLocal } from '../../src/runner/connect.js';

export interface LocalMount {
  /** The remote directory (written directly: a change "on the remote"). */
  remote(): string;
  /** Where it is mounted. */
  mnt(): string;
}

export interface LocalMountOptions {
  /** What the mount is served from, given the local agent (a host that misbehaves on purpose). */
  readonly serve?: (agent: RemoteHost) => RemoteHost;
  readonly warn?: (message: string) => void;
}

export function localMount(
  name: string,
  ttlMs: number,
  opTimeoutMs: number,
  prepare: (remote: string) => void,
  options: LocalMountOptions = {},
): LocalMount {
  let host: RemoteHost | undefined;
  let mounted: Mounted | undefined;
  /** '' until made. */
  let base = '';
  before(async () => {
    base = mkdtempSync(join(tmpdir(), `mproxy-${name}-`));
    mkdirSync(join(base, 'remote'));
    prepare(join(base, 'remote'));
    host = await connectLocal();
    mounted = await mountAll(
      options.serve?.(host) ?? host,
      [{ remote: join(base, 'remote'), local: join(base, 'mnt'), readOnly: false, owner: 'local', ttlMs, allowOther: false }],
      { opTimeoutMs, ...(options.warn !== undefined ? { warn: options.warn } : {}) },
    );
  });
  after(async () => {
    await mounted?.unmount();
    await host?.close();
    if (base === '') return;
    rmSync(join(base, 'remote'), { recursive: true, force: true });
    rmdirSync(base);
  });
  return { remote: () => join(base, 'remote'), mnt: () => join(base, 'mnt') };
}

/**
 * Mount lifecycle options: allow_other lets another local user (here nobody) into a mount;
 * without it FUSE keeps everyone but the mounting user out.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountAll } from '../../src/mount/mount.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { connectLocal } from '../../src/runner/connect.js';

/** `ls` of `dir` as nobody (uid/gid 65534): its output, or the error. */
function listAsNobody(dir: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'ls', dir]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('allow_other', { skip: process.getuid?.() !== 0 ? 'needs root, to run a command as another user' : false }, () => {
  let host: RemoteHost | undefined;
  /** '' until made. */
  let base = '';
  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'mproxy-allow-'));
    chmodSync(base, 0o755);
    mkdirSync(join(base, 'remote'), { mode: 0o755 });
    writeFileSync(join(base, 'remote', 'shared.txt'), 'for everyone\n');
    host = await connectLocal();
  });
  after(async () => {
    await host?.close();
    if (base === '') return;
    rmSync(join(base, 'remote'), { recursive: true, force: true });
    rmdirSync(base);
  });

  for (const allowOther of [false, true]) {
    test(allowOther ? 'on: another user lists the mount' : 'off: another user is refused', async () => {
      assert.ok(host !== undefined);
      const mnt = join(base, 'mnt');
      const mounted = await mountAll(
        host,
        [{ remote: join(base, 'remote'), local: mnt, readOnly: false, owner: 'local', ttlMs: 1000, allowOther }],
        { opTimeoutMs: 20_000 },
      );
      try {
        const r = await listAsNobody(mnt);
        if (allowOther) assert.deepEqual([r.code, r.out], [0, 'shared.txt\n'], r.err);
        else {
          assert.notEqual(r.code, 0);
          assert.match(r.err, /Permission denied/);
        }
      } finally {
        await mounted.unmount();
      }
    });
  }
});

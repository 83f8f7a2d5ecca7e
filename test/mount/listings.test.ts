/**
 * Listings from a remote that sends names no file here can have: a real local agent whose
 * readdir answers gain a name with a slash and one with a NUL (as a broken or hostile remote
 * would send), beside a real file whose name is not UTF-8. They are left out of the mount and
 * said once per directory; every other name is served.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mountAll, type Mounted } from '../../src/mount/mount.js';
import type { RemoteFs, RemoteHost } from '../../src/remote/host.js';
import { connectLocal } from '../../src/target/local.js';
import { local } from '../conformance/mount-cases.js';

let host: RemoteHost | undefined;
let mounted: Mounted | undefined;
let base = '';
const said: string[] = [];

/** The host, with every readdir answer given two impossible names. */
function hostile(real: RemoteHost): RemoteHost {
  const fs: RemoteFs = {
    call: (async (op: string, ...args: unknown[]) => {
      const r = await (real.fs.call as (op: string, ...a: unknown[]) => Promise<unknown>)(op, ...args);
      if (op !== 'readdir') return r;
      const entries = r as { name: Uint8Array; st?: unknown }[];
      const st = entries[0]?.st;
      return [...entries, { name: Buffer.from('evil/../../etc'), st }, { name: Buffer.from('nul\0name'), st }];
    }) as RemoteFs['call'],
  };
  return Object.assign(Object.create(real) as RemoteHost, { fs });
}

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'mproxy-listings-'));
  mkdirSync(join(base, 'remote', 'dir'), { recursive: true });
  writeFileSync(join(base, 'remote', 'dir', 'fine.txt'), 'fine\n');
  writeFileSync(Buffer.from(`${join(base, 'remote', 'dir')}/caf\xe9`, 'latin1'), 'not utf-8\n');
  host = await connectLocal();
  mounted = await mountAll(hostile(host), [{ remote: join(base, 'remote'), local: join(base, 'mnt'), readOnly: false, owner: 'local', ttlMs: 200 }], { opTimeoutMs: 10_000, warn: (m) => said.push(m) });
});
after(async () => {
  await mounted?.unmount();
  await host?.close();
  if (base === '') return;
  rmSync(join(base, 'remote'), { recursive: true, force: true });
  rmdirSync(base);
});

test('names with a slash, a NUL, or not UTF-8 are left out and said once; the rest is served', async () => {
  const mnt = join(base, 'mnt');
  for (let i = 0; i < 3; i++) {
    const r = await local('ls -a dir && cat dir/fine.txt', mnt);
    assert.equal(r.out, '.\n..\nfine.txt\nfine\n', r.err);
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the listing's lifetime: listed again
  }
  const aboutDir = said.filter((m) => m.includes('/dir '));
  assert.equal(aboutDir.length, 1, said.join('\n'));
  const message = aboutDir[0] ?? '';
  assert.match(message, /3 names in \/dir that cannot be a file name here .*left out of the mount: /);
  for (const name of ['"evil/../../etc"', '"nul\\u0000name"', '"caf\u00e9"']) assert.ok(message.includes(name), `${name} in ${message}`);
});

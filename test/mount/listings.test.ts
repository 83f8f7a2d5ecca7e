/**
 * Listings from a remote that sends names no file here can have: a real local agent whose
 * readdir answers gain a name with a slash and one with a NUL (as a broken or hostile remote
 * would send), beside a real file whose name is not UTF-8. They are left out of the mount and
 * said once per directory; every other name is served.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RemoteFs, RemoteHost } from '../../src/remote/host.js';
import { local } from '../conformance/mount-cases.js';
import { localMount } from '../helpers/local-mount.js';

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

const mount = localMount(
  'listings',
  200,
  10_000,
  (remote) => {
    mkdirSync(join(remote, 'dir'));
    writeFileSync(join(remote, 'dir', 'fine.txt'), 'fine\n');
    writeFileSync(Buffer.from(`${join(remote, 'dir')}/caf\xe9`, 'latin1'), 'not utf-8\n');
  },
  { serve: hostile, warn: (m) => said.push(m) },
);

test('names with a slash, a NUL, or not UTF-8 are left out and said once; the rest is served', async () => {
  const mnt = mount.mnt();
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

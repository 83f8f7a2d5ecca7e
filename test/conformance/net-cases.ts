/**
 * Conformance: forwarded connections. A listener made on the remote and a connection opened to
 * it from here make one loop through the remote's own loopback (or a Unix socket in the
 * scratch directory): bytes out and back must be exact, both ways at once, half-close included.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import type { RemoteHost } from '../../src/remote/host.js';
import type { Backend } from './exec-cases.js';
import { collect } from './run.js';

/** Echoes what arrives, then ends its side once the other has ended. */
function echo(c: Duplex): void {
  c.on('error', () => undefined);
  c.pipe(c);
}

/** Sends `data` through a fresh connection to `to`, ends its side, and returns what came back. */
async function roundTrip(host: RemoteHost, to: Parameters<NonNullable<RemoteHost['connect']>>[0], data: Buffer): Promise<Buffer> {
  const c = await (host.connect?.(to) ?? Promise.reject(new Error('no connect')));
  const back = collect(c);
  c.end(data);
  return back;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function netCases(b: Backend): void {
  test('a remote listener and a connection to it: 8 MiB out and back, byte-exact, half-close respected', async (t) => {
    await b.gap(t, 'forwards', async () => {
      const host = b.host();
      const listener = await (host.listen?.({ host: '127.0.0.1', port: 0 }, echo) ?? Promise.reject(new Error('no listen')));
      try {
        assert.ok(listener.port > 0, 'port 0 asked for any; the bound one is told');
        const data = randomBytes(8 << 20);
        assert.equal(sha(await roundTrip(host, { host: '127.0.0.1', port: listener.port }, data)), sha(data));
      } finally {
        await listener.close();
      }
    });
  });

  test('forwarding a Unix socket; 20 connections at once each get their own bytes', async (t) => {
    await b.gap(t, 'forwards', async () => {
      const host = b.host();
      const path = `${b.scratch()}/fwd.sock`;
      const listener = await (host.listen?.({ path }, echo) ?? Promise.reject(new Error('no listen')));
      try {
        const sent = Array.from({ length: 20 }, () => randomBytes(256 * 1024));
        const back = await Promise.all(sent.map((d) => roundTrip(host, { path }, d)));
        assert.deepEqual(back.map(sha), sent.map(sha));
      } finally {
        await listener.close();
      }
    });
  });

  test('a closed port is refused with the reason; the host goes on', async (t) => {
    await b.gap(t, 'forwards', async () => {
      const host = b.host();
      const listener = await (host.listen?.({ host: '127.0.0.1', port: 0 }, echo) ?? Promise.reject(new Error('no listen')));
      const port = listener.port;
      await listener.close();
      await assert.rejects(roundTrip(host, { host: '127.0.0.1', port }, Buffer.from('x')), (err: Error) =>
        /refused|ECONNREFUSED|Connection refused|open failed/i.test(err.message),
      );
      assert.equal((await b.host().fs.call('stat', Buffer.from(b.scratch()))).mode & 0o170000, 0o040000);
    });
  });
}

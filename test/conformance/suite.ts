/** Runs every conformance case against one backend: connect once, a scratch directory, clean up. */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext } from 'node:test';
import type { LimitedFeature, RemoteHost } from '../../src/remote/host.js';
import { execCases } from './exec-cases.js';
import { fsCases } from './fs-cases.js';
import { mountCases } from './mount-cases.js';
import { netCases } from './net-cases.js';
import { sh } from './run.js';

export function conformance(name: string, connect: () => Promise<RemoteHost>): void {
  describe(`conformance: ${name}`, () => {
    let host: RemoteHost | undefined;
    let scratch = '';
    before(async () => {
      host = await connect();
      const made = await sh(host, 'mktemp -d /tmp/mproxy-conformance.XXXXXX');
      if (made.code !== 0) throw new Error(`cannot make a scratch directory: ${made.stderr.toString()}`);
      scratch = made.stdout.toString().trim();
    });
    after(async () => {
      if (host === undefined) return;
      if (scratch !== '') await sh(host, `chmod -R u+rwx ${scratch}; rm -rf ${scratch}`).catch(() => undefined);
      await host.close();
    });
    const backend = {
      host: (): RemoteHost => {
        if (host === undefined) throw new Error(`${name}: not connected`);
        return host;
      },
      scratch: () => scratch,
      gap: async (t: TestContext, feature: LimitedFeature, assertions: () => Promise<void>) => {
        const gap = backend
          .host()
          .info()
          .limitations.find((l) => l.feature === feature);
        if (gap === undefined) return assertions();
        await t.test(`without ${feature} here (${gap.why}), its assertions fail`, () =>
          assert.rejects(assertions, `${name} declares ${feature} missing, yet its assertions pass: the declaration is stale`),
        );
      },
    };
    describe('processes', () => execCases(backend));
    describe('files', () => fsCases(backend));
    describe('mounted', () => mountCases(backend));
    describe('forwarded', () => netCases(backend));
  });
}

/**
 * A backend that needs system parts (sshd, dockerd): skipped with the reason outside CI when
 * one is missing, failed under CI=true; `stop` tears the servers down after the cases.
 */
export function conformanceNeeding(
  name: string,
  missing: string | undefined,
  connect: () => Promise<RemoteHost>,
  stop: () => Promise<void>,
): void {
  if (missing !== undefined && process.env['CI'] !== 'true') {
    describe.skip(`conformance: ${name} (${missing})`, () => undefined);
    return;
  }
  after(stop);
  conformance(name, async () => {
    if (missing !== undefined) throw new Error(`missing system component under CI=true: ${missing}`);
    return connect();
  });
}

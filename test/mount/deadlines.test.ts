/**
 * Deadlines on data: a program holding a file of the mount open, whose remote side stops
 * answering (the agent SIGSTOPped; over SFTP the sftp server SIGSTOPped), gets EIO from read()
 * and from write()+fsync() within op_timeout + 1 s — never a hang — and the mount serves
 * again once the remote answers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountAll, type Mounted } from '../../src/mount/mount.js';
import { agentBundle } from '../../src/remote/agent/bundle.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { local } from '../conformance/mount-cases.js';
import { sh } from '../conformance/run.js';
import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { requireOrSkip, sshdMissing } from '../harness/system.js';

const OP_TIMEOUT = 2000;

/**
 * A program that opens `file`, uses it once, says "ready", waits for a line on stdin, then
 * does `op` (read far into it, or write a MiB and fsync) and reports the outcome and its time.
 */
function holder(file: string, op: 'read' | 'write'): { ready: Promise<void>; go(): Promise<{ code: string; ms: number }> } {
  const program = `
    const fs = require('fs');
    const fd = fs.openSync(${JSON.stringify(file)}, ${op === 'read' ? "'r'" : "'r+'"});
    const buf = Buffer.alloc(1 << 20, 120);
    ${op === 'read' ? 'fs.readSync(fd, buf, 0, 100, 0);' : 'fs.writeSync(fd, buf, 0, 10, 0); fs.fsyncSync(fd);'}
    console.log('ready');
    process.stdin.once('data', () => {
      const t = Date.now();
      let code = 'ok';
      try { ${
        op === 'read'
          ? 'fs.readSync(fd, buf, 0, buf.length, 40 << 20);'
          : 'fs.writeSync(fd, buf, 0, buf.length, 1 << 20); ' + 'fs.fsyncSync(fd);'
      } } catch (e) { code = e.code; }
      console.log(JSON.stringify({ code, ms: Date.now() - t }));
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['-e', program], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const lines: ((line: string) => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (let at = out.indexOf('\n'); at >= 0; at = out.indexOf('\n')) {
      const line = out.slice(0, at);
      out = out.slice(at + 1);
      lines.shift()?.(line);
    }
  });
  const nextLine = (): Promise<string> => new Promise((resolve) => lines.push(resolve));
  const ready = nextLine().then((line) => assert.equal(line, 'ready'));
  return {
    ready,
    go: async () => {
      const result = nextLine();
      child.stdin.write('go\n');
      return JSON.parse(await result) as { code: string; ms: number };
    },
  };
}

function stalls(name: string, agent: 'auto' | 'none', stalled: () => RegExp): void {
  const missing = sshdMissing();
  describe(`${name}: a stalled remote under an open file`, {
    skip: missing !== undefined && process.env['CI'] !== 'true' ? missing : false,
  }, () => {
    let sshd: Sshd | undefined;
    let host: RemoteHost | undefined;
    let mounted: Mounted | undefined;
    /** The temporary directory holding the mount point; '' until made. */
    let base = '';
    let mnt = '';
    before(async (t) => {
      if (!requireOrSkip(t as never, missing)) return;
      sshd = await startSshd();
      host = await connectHarness(sshd, clientHome(sshd), agent);
      const remote = `/home/${sshd.user}/deadlines`;
      const made = await sh(
        host,
        `rm -rf ${remote}; mkdir -p ${remote} && head -c 64M /dev/zero > ${remote}/big && head -c 4M /dev/zero > ${remote}/target`,
      );
      assert.equal(made.code, 0, made.stderr.toString());
      base = mkdtempSync(join(tmpdir(), 'mproxy-deadlines-'));
      mnt = join(base, 'mnt');
      mounted = await mountAll(host, [{ remote, local: mnt, readOnly: false, owner: 'local', ttlMs: 1000, allowOther: false }], {
        opTimeoutMs: OP_TIMEOUT,
      });
    });
    after(async () => {
      sshd?.signalBelow('SIGCONT', /(?:)/);
      await mounted?.unmount();
      // Only the directory made above, not recursively: the mount point is gone after unmount.
      if (base !== '') rmdirSync(base);
      await host?.close();
      await sshd?.stop();
    });

    for (const op of ['read', 'write'] as const) {
      test(`${op}() on an open file: EIO within op_timeout + 1 s, then served again`, async () => {
        assert.ok(sshd !== undefined);
        const program = holder(join(mnt, op === 'read' ? 'big' : 'target'), op);
        await program.ready;
        assert.ok(sshd.signalBelow('SIGSTOP', stalled()) > 0, 'the remote side was found and stopped');
        let outcome: Awaited<ReturnType<typeof program.go>>;
        try {
          outcome = await program.go();
        } finally {
          sshd.signalBelow('SIGCONT', stalled());
        }
        assert.equal(outcome.code, 'EIO');
        assert.ok(outcome.ms < OP_TIMEOUT + 1000, `failed after ${outcome.ms} ms`);
        // Served again as soon as the remote answers what it was left with.
        const started = Date.now();
        let again = await local('head -c 5 big | wc -c && ls', mnt);
        while (again.code !== 0 && Date.now() - started < OP_TIMEOUT + 2000) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          again = await local('head -c 5 big | wc -c && ls', mnt);
        }
        assert.equal(again.code, 0, again.err);
        assert.match(again.out, /^5\n/);
      });
    }
  });
}

// This server's agent only: other test files run agents of their own meanwhile.
stalls('agent tier', 'auto', () => new RegExp(agentBundle().cacheName.replace(/\./g, '\\.')));
stalls('agentless (sftp)', 'none', () => /@internal-sftp/);

/**
 * The agent's directory watches through its native helper (`mproxy-pty --watcher`): a file
 * written thousands of times is told a handful of times, not once per write; and whatever a
 * command changed is told before its exit is (a reader right after it must not find the cache
 * of before): names it made, removed, and its last write; a helper that stops answering delays
 * an exit by a second at most.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChangeKind } from '../../src/protocol/frames.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { connectLocal } from '../../src/runner/connect.js';
import { sh } from '../conformance/run.js';
import { tempTree } from '../helpers/tmp.js';

describe("the agent's watches", () => {
  let host: RemoteHost & { close(): Promise<void> };
  before(async () => {
    host = await connectLocal();
  });
  after(() => host.close());

  /** Watches `dir`; what it was told, in order, as "kind name". */
  const told = async (dir: string): Promise<{ seen: string[]; close: () => void }> => {
    const seen: string[] = [];
    const watch = host.watch?.(Buffer.from(dir), (name: Uint8Array | null, kind?: ChangeKind) =>
      seen.push(`${kind ?? 'any'} ${name === null ? '*' : Buffer.from(name).toString()}`),
    );
    assert.ok(watch !== undefined, 'the local agent watches');
    const w = await watch;
    return { seen, close: () => w.close() };
  };

  test('the helper watches, not Node: a file written 8,192 times is told a handful of times', async (t) => {
    const dir = tempTree(t, { 'keep.txt': 'x' });
    const ps = await sh(host, 'ps -e -o args= | grep -c -- "^[^ ]*mproxy-pty --watcher$"');
    assert.ok(Number(ps.stdout.toString()) >= 1, `a watcher helper runs: ${ps.stdout.toString()}`);
    const w = await told(dir);
    const r = await sh(host, `dd if=/dev/zero of=${dir}/G bs=4096 count=8192 status=none`);
    assert.equal(r.code, 0, r.stderr.toString());
    w.close();
    const changes = w.seen.filter((s) => s === 'change G').length;
    assert.ok(changes >= 1 && changes <= 100, `told ${changes} times: ${w.seen.slice(0, 20).join(', ')}`);
    assert.ok(w.seen.includes('rename G'), 'its creation is told');
  });

  test('what a command made, removed and wrote last is told before its exit', async (t) => {
    const dir = tempTree(t, { 'old.txt': 'x', 'log.txt': '' });
    const w = await told(dir);
    for (let round = 0; round < 20; round++) {
      const before = w.seen.length;
      const r = await sh(host, `echo a >> ${dir}/log.txt; touch ${dir}/new-${round}; rm -f ${dir}/old.txt; echo b >> ${dir}/log.txt`);
      assert.equal(r.code, 0, r.stderr.toString());
      const now = w.seen.slice(before);
      assert.ok(now.includes(`rename new-${round}`), `round ${round}: ${now.join(', ')}`);
      assert.ok(now.includes('change log.txt'), `round ${round}: ${now.join(', ')}`);
      if (round === 0) assert.ok(now.includes('rename old.txt'), now.join(', '));
    }
    w.close();
  });

  test('a watcher helper that stops answering holds no exit for long: the command still ends', async (t) => {
    const dir = tempTree(t, { 'a.txt': 'x' });
    const w = await told(dir);
    // The spawner started this sh; its parent is the agent, whose other helper child is the watcher.
    const found = await sh(host, 'a=$(ps -o ppid= -p $PPID); ps -o pid=,args= --ppid $a | grep -- "--watcher$"');
    const pid = Number(found.stdout.toString().trim().split(/\s+/)[0]);
    assert.ok(pid > 0, found.stdout.toString());
    process.kill(pid, 'SIGSTOP');
    try {
      const ran = sh(host, `touch ${dir}/b.txt; echo done`);
      const r = await Promise.race([ran, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref())]);
      assert.notEqual(r, 'hung', 'the exit came without the helper');
      assert.equal(r === 'hung' ? '' : r.stdout.toString(), 'done\n');
    } finally {
      process.kill(pid, 'SIGCONT');
      w.close();
    }
  });
});

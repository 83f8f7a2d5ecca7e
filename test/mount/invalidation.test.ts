/**
 * Coherence on the agent tier with long lifetimes in force: cache_ttl is an hour, so nothing
 * the kernel or the mount holds expires during the test — a remote change can only be seen
 * through the agent's change notices and the invalidations they cause. Each change is made on
 * the remote directly (not through the mount) and must be seen within a second.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountAll, type Mounted } from '../../src/mount/mount.js';
import type { RemoteHost } from '../../src/remote/host.js';
import { local } from '../conformance/mount-cases.js';
import { sh } from '../conformance/run.js';
import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { requireOrSkip, sshdMissing } from '../harness/system.js';
import { localMount } from '../helpers/local-mount.js';

const HOUR = 3_600_000;
const BOUND_MS = 1000;

describe('a mount with hour-long lifetimes sees remote changes through invalidation', () => {
  const mount = localMount('inval', HOUR, 20_000, (remote) => {
    mkdirSync(join(remote, 'dir'));
    writeFileSync(join(remote, 'dir', 'same-size.txt'), 'aaaa\n');
    writeFileSync(join(remote, 'dir', 'grows.txt'), 'first\n');
    writeFileSync(join(remote, 'dir', 'old-name.txt'), 'moving\n');
    writeFileSync(join(remote, 'dir', 'doomed.txt'), 'doomed\n');
  });
  const remote = (): string => mount.remote();

  /** Runs `script` in the mount until it prints `want`; how long that took (ms), or fails past the bound. */
  async function seenWithin(script: string, want: string): Promise<number> {
    const started = Date.now();
    let got = '';
    while (Date.now() - started <= BOUND_MS + 500) {
      got = (await local(script, mount.mnt())).out;
      if (got === want) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.fail(`not seen within ${BOUND_MS} ms: wanted ${JSON.stringify(want)}, last saw ${JSON.stringify(got)}`);
  }

  test('cached contents and attributes, then a same-size rewrite and an append on the remote', async () => {
    // Read everything first: contents, sizes, the listing, a name that does not exist yet.
    const before = await local(
      'cat dir/same-size.txt dir/grows.txt && stat -c %s dir/grows.txt && ls dir && test ! -e dir/born.txt',
      mount.mnt(),
    );
    assert.equal(before.code, 0, before.err);
    assert.equal(before.out, 'aaaa\nfirst\n6\ndoomed.txt\ngrows.txt\nold-name.txt\nsame-size.txt\n');
    writeFileSync(join(remote(), 'dir', 'same-size.txt'), 'bbbb\n');
    appendFileSync(join(remote(), 'dir', 'grows.txt'), 'second line\n');
    const ms = await seenWithin('cat dir/same-size.txt dir/grows.txt && stat -c %s dir/grows.txt', 'bbbb\nfirst\nsecond line\n18\n');
    assert.ok(ms <= BOUND_MS, `seen after ${ms} ms`);
  });

  test('a name created, renamed and removed on the remote is seen at once', async () => {
    assert.equal(
      (await local('cat dir/old-name.txt dir/doomed.txt && test ! -e dir/born.txt && ls dir | wc -l', mount.mnt())).out,
      'moving\ndoomed\n4\n',
    );
    writeFileSync(join(remote(), 'dir', 'born.txt'), 'born\n');
    renameSync(join(remote(), 'dir', 'old-name.txt'), join(remote(), 'dir', 'new-name.txt'));
    unlinkSync(join(remote(), 'dir', 'doomed.txt'));
    const ms = await seenWithin(
      'cat dir/born.txt dir/new-name.txt; test -e dir/old-name.txt || echo old-gone; test -e dir/doomed.txt || echo doomed-gone; ls dir',
      'born\nmoving\nold-gone\ndoomed-gone\nborn.txt\ngrows.txt\nnew-name.txt\nsame-size.txt\n',
    );
    assert.ok(ms <= BOUND_MS, `seen after ${ms} ms`);
  });

  test('a directory made on the remote, and a file in it, appear; our own writes read back without a remote trip', async () => {
    mkdirSync(join(remote(), 'dir', 'sub'));
    writeFileSync(join(remote(), 'dir', 'sub', 'inner.txt'), 'inner\n');
    const ms = await seenWithin('cat dir/sub/inner.txt', 'inner\n');
    assert.ok(ms <= BOUND_MS, `seen after ${ms} ms`);
    const ours = await local('printf "written here\\n" > dir/ours.txt && cat dir/ours.txt', mount.mnt());
    assert.equal(ours.out, 'written here\n', ours.err);
    // The remote changes it after our write: seen too, though our own notices were being checked.
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(join(remote(), 'dir', 'ours.txt'), 'changed remotely, longer\n');
    const later = await seenWithin('cat dir/ours.txt', 'changed remotely, longer\n');
    assert.ok(later <= BOUND_MS + 200, `seen after ${later} ms`);
  });

  test('a file written here while its own notices come: every new open right after sees all of it', async () => {
    // The notices of our own writes, checked mid-write, once gave the name a new node with the
    // size the remote had then: an open just after the writer closed read a short file.
    for (let round = 0; round < 3; round++) {
      const r = await local(
        'head -c 30000000 /dev/urandom > dir/big && stat -c %s dir/big && wc -c < dir/big && sleep 0.05 && wc -c < dir/big; rm dir/big',
        mount.mnt(),
      );
      assert.equal(r.out, '30000000\n30000000\n30000000\n', `round ${round + 1}: ${r.err}`);
    }
  });
});

describe('without change notices (SFTP): each open reads what the remote holds now', {
  skip: sshdMissing() !== undefined && process.env['CI'] !== 'true' ? sshdMissing() : false,
}, () => {
  let sshd: Sshd | undefined;
  let host: RemoteHost | undefined;
  let mounted: Mounted | undefined;
  let base = '';
  let mnt = '';
  let remote = '';
  const TTL = 300;
  before(async (t) => {
    if (!requireOrSkip(t as never, sshdMissing())) return;
    sshd = await startSshd();
    host = await connectHarness(sshd, clientHome(sshd), 'none');
    remote = `/home/${sshd.user}/close-to-open`;
    assert.equal((await sh(host, `rm -rf ${remote}; mkdir -p ${remote} && printf 'aaaa\\n' > ${remote}/f`)).code, 0);
    base = mkdtempSync(join(tmpdir(), 'mproxy-cto-'));
    mnt = join(base, 'mnt');
    mounted = await mountAll(host, [{ remote, local: mnt, readOnly: false, owner: 'local', ttlMs: TTL, allowOther: false }], {
      opTimeoutMs: 10_000,
    });
  });
  after(async () => {
    await mounted?.unmount();
    if (base !== '') rmdirSync(base);
    await host?.close();
    await sshd?.stop();
  });

  test('a rewrite that keeps the size and the mtime (whole seconds over SFTP) is not served from the page cache', async () => {
    assert.ok(host !== undefined);
    assert.equal((await local('cat f', mnt)).out, 'aaaa\n');
    const rewrite = await sh(host, `cd ${remote} && m=$(stat -c %Y f) && printf 'bbbb\\n' > f && touch -d @$m f && stat -c '%s %Y' f`);
    assert.equal(rewrite.code, 0, rewrite.stderr.toString());
    await new Promise((resolve) => setTimeout(resolve, TTL * 3));
    assert.equal((await local('stat -c "%s %Y" f', mnt)).out, rewrite.stdout.toString(), 'the attributes did not change');
    assert.equal((await local('cat f', mnt)).out, 'bbbb\n');
  });
});

describe('a file whose last writes are slow to land: the next open sees all of it', () => {
  const SIZE = 20_000_000;
  // The writes that end the file take 900 ms to be answered: longer than the quiet time after
  // which our own notices are checked. A check then sees the remote short of what was written.
  const slow = localMount('inval-slow', HOUR, 20_000, (remote) => mkdirSync(join(remote, 'dir')), {
    serve: (host) => ({
      ...host,
      fs: {
        call: async (op, ...args) => {
          if (op === 'write' && (args[1] as number) + (args[2] as Uint8Array).length >= SIZE - (1 << 20)) {
            await new Promise((resolve) => setTimeout(resolve, 900));
          }
          return host.fs.call(op, ...args);
        },
      },
      info: () => host.info(),
      exec: (r) => host.exec(r),
      pathQuery: (d) => host.pathQuery(d),
      ...(host.watch !== undefined ? { watch: host.watch.bind(host) } : {}),
      close: () => host.close(),
    }),
  });

  test('written, closed, opened again at once: the whole size and the same bytes as the remote', async () => {
    const r = await local(`head -c ${SIZE} /dev/urandom > dir/slow && wc -c < dir/slow && sha256sum < dir/slow`, slow.mnt());
    assert.equal(r.code, 0, r.err);
    const there = createHash('sha256')
      .update(readFileSync(join(slow.remote(), 'dir', 'slow')))
      .digest('hex');
    assert.equal(r.out, `${SIZE}\n${there}  -\n`);
  });
});

/**
 * A remote that sends anything: random and mutated frames into the codec, the client and a real
 * agent. Nothing crashes, nothing is executed that was not asked for by a well-formed Exec,
 * memory stays bounded, and what is malformed ends in a ProtocolError (client: E_PROTOCOL;
 * agent: exit 3 saying so). Seeded, so a failure is reproducible.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { encodeFrame, FrameDecoder, ProtocolError } from '../../src/protocol/codec.js';
import { FILE_OP_NAMES } from '../../src/protocol/file-ops.js';
import { PROTOCOL_VERSION, SYNC_MARKER, T, WINDOW, type Frame } from '../../src/protocol/frames.js';
import { agentBundle } from '../../src/remote/agent/bundle.js';
import { AgentClient } from '../../src/remote/agent/client.js';
import { isMproxyError } from '../../src/util/errors.js';

/** mulberry32: a small seeded generator. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(0x6d70726f);
const int = (n: number): number => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
const word = (): string => Array.from({ length: 1 + int(8) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[int(36)]).join('');
const junk = (): unknown =>
  pick<() => unknown>([
    () => int(1e9),
    () => -int(5),
    () => 1.5,
    () => word(),
    () => bytes(int(16)),
    () => null,
    () => [int(3)],
    () => ({ x: 1 }),
    () => true,
  ])();

/** Well-formed frames of every type the agent sends (the client's input). */
function agentFrame(ids: readonly number[]): Frame {
  const id = pick([...ids, int(1000)]);
  const s = pick([0, 1, 2, 3, int(300)]);
  const all: (() => Frame)[] = [
    () => ({ t: T.Hello, v: PROTOCOL_VERSION, caps: [] }),
    () => ({ t: T.Data, id, s, d: bytes(int(2048)) }),
    () => ({ t: T.Eof, id, s }),
    () => ({ t: T.Ack, id, s, n: int(1 << 20) }),
    () => ({ t: T.Exit, id, code: pick([0, 1, null]), sig: pick([null, 'SIGTERM', 'NOPE']) }),
    () => ({ t: T.Error, id: pick([id, id, 0]), code: pick(['ENOENT', 'E_X', 'E_PROTOCOL']), msg: word() }),
    () => ({ t: T.Log, level: 'info', msg: word() }),
    () => ({ t: T.PathInfo, id, entries: [] }),
    () => ({ t: T.FileResp, id, r: junk() }),
    () => ({ t: T.FileResp, id, e: 'EIO', m: word() }),
    () => ({ t: T.Invalidate, id, name: pick([null, bytes(4)]) }),
    () => ({ t: T.Exec, id, argv: ['sh'], env: {}, cwd: '/', fds: [] }),
  ];
  return pick(all)();
}

/** One frame's bytes, mutated as a broken or hostile peer would: flipped, cut, grown, re-typed, or noise. */
function mutated(frame: Frame): Buffer {
  const good = encodeFrame(frame);
  switch (int(6)) {
    case 0: {
      const b = Buffer.from(good);
      for (let i = 0; i < 1 + int(4); i++) b[4 + int(b.length - 4)] = int(256);
      return b;
    }
    case 1:
      return good.subarray(0, int(good.length));
    case 2: {
      const b = Buffer.concat([good, bytes(int(64))]);
      b.writeUInt32BE(b.length - 4, 0);
      return b;
    }
    case 3: {
      // Valid CBOR, wrong field kinds.
      const raw = { ...(frame as unknown as Record<string, unknown>) };
      for (const k of Object.keys(raw)) if (rnd() < 0.3) raw[k] = junk();
      return encodeFrame(raw as unknown as Frame);
    }
    case 4: {
      const b = Buffer.concat([Buffer.alloc(4), bytes(int(256))]);
      b.writeUInt32BE(pick([b.length - 4, 0xffffffff, int(1 << 25)]), 0);
      return b;
    }
    default:
      return good;
  }
}

test('the codec: 100,000 random and mutated frames each decode to a checked frame or a ProtocolError', () => {
  let frames = 0;
  let refused = 0;
  for (let i = 0; i < 100_000; i++) {
    const decoder = new FrameDecoder(() => frames++);
    try {
      decoder.push(mutated(agentFrame([1, 2])));
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `input ${i}: ${String(err)}`);
      refused++;
    }
  }
  assert.ok(frames > 10_000 && refused > 10_000, `both outcomes exercised (${frames} frames, ${refused} refused)`);
});

/** An in-memory transport: what the test writes is the agent speaking. */
async function fakeAgent(): Promise<{ client: AgentClient; say(b: Buffer): void; closed: Promise<void> }> {
  const fromAgent = new PassThrough();
  const toAgent = new PassThrough();
  toAgent.resume();
  let close: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (close = resolve));
  const connecting = AgentClient.connect(
    { input: fromAgent, output: toAgent, description: 'a fuzzing peer', close: async () => close() },
    { opTimeoutMs: 1000 },
  );
  fromAgent.write(Buffer.concat([SYNC_MARKER, encodeFrame({ t: T.Hello, v: PROTOCOL_VERSION, caps: ['exec', 'fs'] })]));
  return { client: await connecting, say: (b) => fromAgent.write(b), closed };
}

test('the client: 100,000 mutated frames end connections with E_PROTOCOL at worst, never a crash; memory stays bounded', async () => {
  const crashes: unknown[] = [];
  const onCrash = (err: unknown): void => void crashes.push(err);
  process.on('uncaughtException', onCrash);
  const rssBefore = process.memoryUsage().rss;
  let deaths = 0;
  let episodes = 0;
  let said = 0;
  try {
    for (; said < 100_000; episodes++) {
      const { client, say } = await fakeAgent();
      const procs = [client.exec({ argv: ['x'], env: {}, cwd: '/' }), client.exec({ argv: ['y'], env: {}, cwd: '/' })];
      const outcomes = procs.map((p) =>
        p.exited.then(
          () => 'exited',
          (err: unknown) => (isMproxyError(err) ? err.code : `not an MproxyError: ${String(err)}`),
        ),
      );
      for (const p of procs) {
        p.stdout.resume();
        p.stderr.resume();
      }
      const ops = Array.from({ length: 3 }, () =>
        client.fs.call('stat', Buffer.from('/')).then(
          () => 'answered',
          (err: Error & { code?: string }) => err.code ?? err.name,
        ),
      );
      for (let i = 0; i < 500 && !client.isLost; i++, said++) say(mutated(agentFrame([1, 2, 3, 4, 5])));
      if (client.isLost) deaths++;
      await client.close();
      for (const o of await Promise.all(outcomes))
        assert.ok(
          ['exited', 'E_PROTOCOL', 'E_CONNECTION_LOST', 'E_EXEC', 'E_COMMAND_NOT_FOUND', 'E_COMMAND_NOT_EXECUTABLE'].includes(o),
          o,
        );
      for (const o of await Promise.all(ops)) assert.ok(typeof o === 'string' && o !== 'Error', String(o));
    }
  } finally {
    process.off('uncaughtException', onCrash);
  }
  assert.deepEqual(crashes, []);
  assert.ok(deaths > episodes / 2, `mutations killed connections (${deaths} of ${episodes})`);
  assert.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024, 'memory stays bounded');
});

test('the client: output past the window, or after its end, is a protocol error — not unbounded memory or a crash', async () => {
  for (const abuse of ['flood', 'after-eof'] as const) {
    const { client, say } = await fakeAgent();
    const proc = client.exec({ argv: ['x'], env: {}, cwd: '/' });
    // Nobody reads stdout: the agent must stop at the window.
    const chunk = Buffer.alloc(256 * 1024, 120);
    if (abuse === 'flood')
      for (let sent = 0; sent < 4 * WINDOW && !client.isLost; sent += chunk.length) say(encodeFrame({ t: T.Data, id: 1, s: 1, d: chunk }));
    else say(Buffer.concat([encodeFrame({ t: T.Eof, id: 1, s: 1 }), encodeFrame({ t: T.Data, id: 1, s: 1, d: chunk })]));
    await assert.rejects(
      proc.exited,
      (err: Error & { code?: string }) => err.code === 'E_PROTOCOL' && /without an acknowledgement|after its end/.test(err.message),
    );
    await client.close();
  }
});

const work = mkdtempSync(join(tmpdir(), 'mproxy-fuzz-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A real agent process, its stdout collected, its stdin ours. */
function startAgent(): { child: ReturnType<typeof spawn>; out: () => Buffer; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [agentBundle().path], {
    cwd: work,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => Buffer.concat(out), err: () => err, exited };
}

/**
 * Well-formed but hostile client frames: every file operation with random arguments, input and
 * signals for processes that do not exist. Never an Exec.
 */
function clientFrame(id: number): Frame {
  const path = (): Buffer => Buffer.from(join(work, word()));
  const arg = (): unknown => pick<() => unknown>([path, path, () => int(1 << 20), junk])();
  const all: (() => Frame)[] = [
    () => ({ t: T.FileOp, id, op: pick(FILE_OP_NAMES), a: Array.from({ length: int(4) }, arg) }),
    () => ({ t: T.FileOp, id, op: word(), a: [] }),
    () => ({ t: T.Data, id: int(50), s: int(4), d: bytes(int(512)) }),
    () => ({ t: T.Eof, id: int(50), s: int(4) }),
    () => ({ t: T.Ack, id: int(50), s: int(4), n: int(1 << 30) }),
    () => ({ t: T.Signal, id: int(50), sig: pick(['SIGKILL', 'SIGTERM', 'NOPE', '']) }),
    () => ({ t: T.Resize, id: int(50), cols: int(500), rows: int(500) }),
    () => ({ t: T.Unwatch, id: int(50) }),
    () => ({ t: T.PathQuery, id, dirs: [join(work, word())] }),
  ];
  return pick(all)();
}

test('a real agent: 100,000 hostile well-formed frames are answered or ignored — it runs nothing and still serves', async () => {
  const agent = startAgent();
  const hello = encodeFrame({ t: T.Hello, v: PROTOCOL_VERSION, caps: [] });
  const frames = [hello];
  for (let id = 1; id <= 100_000; id++) frames.push(encodeFrame(clientFrame(id)));
  frames.push(encodeFrame({ t: T.FileOp, id: 999_999, op: 'stat', a: [Buffer.from(work)] }));
  agent.child.stdin?.write(Buffer.concat(frames));
  const answered = (): boolean => {
    const got: Frame[] = [];
    try {
      const d = new FrameDecoder((f) => got.push(f), { expectSync: true });
      d.push(agent.out());
    } catch {
      return false;
    }
    return got.some((f) => f.t === T.FileResp && f.id === 999_999 && f.r !== undefined);
  };
  for (const end = Date.now() + 30_000; !answered(); ) {
    assert.ok(Date.now() < end, `the last request was answered (stderr: ${agent.err()})`);
    assert.equal(agent.child.exitCode, null, `the agent is alive (stderr: ${agent.err()})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const children = spawnSync('ps', ['--ppid', String(agent.child.pid), '-o', 'args='], { encoding: 'utf8' }).stdout.trim();
  assert.equal(children, '', 'the agent started no process');
  agent.child.stdin?.end();
  assert.equal(await agent.exited, 0);
});

test('a real agent: random bytes end it with a protocol error (exit 3, said), not a crash', async () => {
  for (let run = 0; run < 5; run++) {
    const agent = startAgent();
    agent.child.stdin?.write(
      Buffer.concat([
        encodeFrame({ t: T.Hello, v: PROTOCOL_VERSION, caps: [] }),
        ...Array.from({ length: 50 }, () => mutated(clientFrame(run + 1))),
      ]),
    );
    agent.child.stdin?.end(bytes(4096));
    const code = await agent.exited;
    assert.ok(code === 3 || code === 0, `exit ${String(code)}: ${agent.err()}`);
    if (code === 3) assert.match(agent.err(), /^mproxy-agent: protocol error: /m);
    assert.doesNotMatch(agent.err(), /\n\s+at /, 'no stack trace');
  }
});

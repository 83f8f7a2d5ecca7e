/** The agent as a process: it starts with the sync marker and Hello, and stops on garbage without running anything. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeFrame } from '../../src/protocol/codec.js';
import { SYNC_MARKER, T } from '../../src/protocol/frames.js';
import { agentBundle } from '../../src/remote/agent/bundle.js';

function runAgent(input: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [agentBundle().path]);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

test('starts with the sync marker, then a Hello', async () => {
  const r = await runAgent(Buffer.alloc(0));
  assert.equal(r.code, 0, 'EOF on stdin ends the agent cleanly');
  assert.ok(r.stdout.subarray(0, SYNC_MARKER.length).equals(SYNC_MARKER));
});

test('an Exec before Hello is refused and nothing runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mproxy-agent-'));
  try {
    const canary = join(dir, 'canary');
    const r = await runAgent(encodeFrame({ t: T.Exec, id: 1, argv: ['touch', canary], env: {}, cwd: '/', fds: [] }));
    assert.equal(r.code, 3);
    assert.match(r.stderr, /protocol error: the first frame must be Hello/);
    assert.equal(existsSync(canary), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('random bytes stop the agent with a protocol error, never a hang', async () => {
  for (let i = 0; i < 20; i++) {
    const hello = encodeFrame({ t: T.Hello, v: 1, caps: [] });
    const r = await runAgent(Buffer.concat([hello, randomBytes(64 + i * 50)]));
    assert.ok(r.code === 3 || r.code === 0, `exit ${String(r.code)}: ${r.stderr}`);
    if (r.code === 3) assert.match(r.stderr, /protocol error/);
  }
});

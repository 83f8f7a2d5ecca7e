/**
 * What the integration tests need of this machine. Under CI=true a missing part fails the run
 * (tests call `requireOrSkip`); elsewhere the tests that need it are skipped with the reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const IN_CI = process.env['CI'] === 'true';

/** A command on this machine, synchronously (the test servers' setup), within 60 s. */
export function runHere(cmd: string, args: readonly string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}

/** Why this machine cannot run an sshd of our own, or undefined when it can. */
export function sshdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the sshd harness needs root (it adds a test user and a mount namespace)';
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is missing (apt-get install openssh-server)';
  if (runHere('unshare', ['-m', 'true']).code !== 0) return 'unshare -m does not work here (mount namespaces are needed)';
  return undefined;
}

/** Skip the test with `reason` outside CI; fail it under CI=true. */
export function requireOrSkip(t: TestContext, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (IN_CI) throw new Error(`missing system component under CI=true: ${reason}`);
  t.skip(reason);
  return false;
}

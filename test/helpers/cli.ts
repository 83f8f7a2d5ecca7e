/** Runs the built mproxy binary as a user would, with a controlled environment. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MPROXY_BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** node's arguments as the installed `mproxy` starts it (the bin's first line gives node these flags). */
export const MPROXY_ARGV: readonly string[] = ['--initial-old-space-size=64', MPROXY_BIN];
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** An environment that does not depend on the machine: fixed HOME, no machine or user config. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: '/home/tester',
    MPROXY_SYSTEM_CONFIG: '/nonexistent/machineproxy.toml',
    MPROXY_USER_CONFIG: '/nonexistent/user/machineproxy.toml',
    ...extra,
  };
}

export function runMproxy(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): RunResult {
  const result = spawnSync(process.execPath, [MPROXY_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? testEnv(),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error !== undefined) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

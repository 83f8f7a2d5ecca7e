/** Signal names and this machine's numbers for them (the shim speaks numbers, the remote names). */
import { constants } from 'node:os';

const byName = constants.signals as Readonly<Record<string, number | undefined>>;
const byNumber = new Map<number, string>();
for (const [name, n] of Object.entries(byName)) {
  // SIGIOT/SIGABRT and SIGPOLL/SIGIO share numbers: keep the first, the common name.
  if (n !== undefined && !byNumber.has(n)) byNumber.set(n, name);
}

export function signalNumber(name: string): number | undefined {
  return byName[name];
}

export function signalName(n: number): string | undefined {
  return byNumber.get(n);
}

/**
 * argv that starts a remote command with `ignored` (numbers here) ignored, as a local command
 * would inherit them: the agent's spawn resets every signal, but sh's `trap ""` survives exec.
 */
export function startIgnoring(argv: readonly string[], ignored: readonly number[]): readonly string[] {
  const names = ignored
    .map(signalName)
    .filter((n): n is string => n !== undefined)
    .map((n) => n.replace(/^SIG/, ''));
  if (names.length === 0) return argv;
  return ['/bin/sh', '-c', `trap "" ${names.join(' ')}; exec "$@"`, 'sh', ...argv];
}

/**
 * PATH stubs: symlinks to the shim named after commands, in the session's bin/. Commands that
 * exist only on the remote get one (appended to the program's PATH), so `which`, completion
 * and execvp find them here; with PATH interception (no tracer) every command gets one, first
 * on PATH.
 */
import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteHost } from '../remote/host.js';

function localCommands(path: string): Set<string> {
  const names = new Set<string>();
  for (const dir of path.split(':')) {
    if (!dir.startsWith('/')) continue;
    try {
      for (const name of readdirSync(dir)) names.add(name);
    } catch {
      // A PATH entry that does not exist or cannot be read: nothing to add.
    }
  }
  return names;
}

/** Writes the stubs; returns how many commands are remote-only. */
export async function writeStubs(
  host: RemoteHost,
  stubDir: string,
  shim: string,
  localPath: string,
  everyCommand: boolean,
): Promise<number> {
  const local = localCommands(localPath);
  const remote = (await host.pathQuery()).filter((e) => (e.mode & 0o111) !== 0 && (e.mode & 0o170000) !== 0o040000).map((e) => e.name);
  const remoteOnly = new Set(remote.filter((name) => !local.has(name)));
  const names = everyCommand ? new Set([...local, ...remote]) : remoteOnly;
  for (const name of names) {
    if (name.includes('/') || name === '' || name.startsWith('.')) continue;
    try {
      symlinkSync(shim, join(stubDir, name));
    } catch {
      // Two PATH entries with one name: the first stub serves both.
    }
  }
  return remoteOnly.size;
}

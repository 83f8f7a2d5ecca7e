/** Executables on the remote PATH (or given directories): the first match of each name wins, as a shell finds them. */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { PathEntry } from '../../src/protocol/frames.js';

export async function listExecutables(dirs: readonly string[]): Promise<PathEntry[]> {
  const search = dirs.length > 0 ? dirs : (process.env['PATH'] ?? '').split(':').filter((d) => d !== '');
  const seen = new Set<string>();
  const out: PathEntry[] = [];
  for (const dir of search) {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    const stats = await Promise.all(
      names.map((name) =>
        fs.stat(join(dir, name)).then(
          (st) => ({ name, st }),
          () => undefined,
        ),
      ),
    );
    for (const entry of stats) {
      if (entry === undefined || seen.has(entry.name)) continue;
      const { name, st } = entry;
      if (!st.isFile() || (st.mode & 0o111) === 0) continue;
      seen.add(name);
      out.push({ name, path: join(dir, name), mode: st.mode, size: st.size, mtime: st.mtimeMs });
    }
  }
  return out;
}

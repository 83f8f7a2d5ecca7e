/** PATH enumeration for the agentless tier: regular executable files, the first of each name winning. */
import type { PathEntry } from '../../protocol/frames.js';
import type { RemoteFs } from '../host.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export async function listExecutables(fs: RemoteFs, dirs: readonly string[]): Promise<PathEntry[]> {
  const seen = new Set<string>();
  const out: PathEntry[] = [];
  for (const dir of dirs) {
    const entries = await fs.call('readdir', Buffer.from(dir)).catch(() => []);
    for (const e of entries) {
      const name = Buffer.from(e.name).toString();
      let st = e.st;
      if (st !== undefined && (st.mode & S_IFMT) === S_IFLNK)
        st = await fs.call('stat', Buffer.from(`${dir}/${name}`)).catch(() => undefined);
      if (st === undefined || seen.has(name) || (st.mode & S_IFMT) !== S_IFREG || (st.mode & 0o111) === 0) continue;
      seen.add(name);
      out.push({ name, path: `${dir}/${name}`, mode: st.mode, size: st.size, mtime: st.mtimeMs });
    }
  }
  return out;
}

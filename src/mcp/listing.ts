/**
 * list_directory and stat: what is in a directory (names, types, sizes; deeper levels on
 * request, symlinks listed but not followed) and one path's attributes, over the stat-carrying
 * readdir of the target's file operations.
 */
import { posix } from 'node:path';
import type { WireStat } from '../protocol/file-ops.js';
import { int, type PathResolver, str, type Tool, type ToolArgs, type ToolContext, type ToolResult } from './context.js';

/** Entries listed at most, over all levels: the result says when more were left out. */
const MAX_ENTRIES = 5000;
const S_IFMT = 0o170000;

function kind(mode: number): string {
  switch (mode & S_IFMT) {
    case 0o040000:
      return 'directory';
    case 0o100000:
      return 'file';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

interface Entry {
  readonly name: string;
  readonly type: string;
  readonly size: number;
}

async function listDirectory(ctx: ToolContext, args: ToolArgs, paths: PathResolver): Promise<ToolResult> {
  const { path, real } = await paths.resolve(str(args['path']));
  const depth = int(args['depth']) ?? 1;
  const entries: Entry[] = [];
  let truncated = false;
  const walk = async (dir: string, prefix: string, level: number): Promise<void> => {
    const listed = await ctx.host.fs.call('readdir', Buffer.from(dir));
    const named = listed
      .map((e) => ({ name: Buffer.from(e.name).toString(), st: e.st }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { name, st } of named) {
      if (entries.length >= MAX_ENTRIES) {
        truncated = true;
        return;
      }
      const type = st === undefined ? 'other' : kind(st.mode);
      entries.push({ name: prefix + name, type, size: st?.size ?? 0 });
      if (type === 'directory' && level < depth) await walk(posix.join(dir, name), `${prefix}${name}/`, level + 1);
    }
  };
  await walk(real, '', 1);
  const lines = entries.map((e) =>
    e.type === 'directory' ? `${e.name}/` : e.type === 'file' ? `${e.name}  ${e.size}` : `${e.name}  (${e.type})`,
  );
  if (truncated) lines.push(`[cut: more than ${MAX_ENTRIES} entries; list a subdirectory or a smaller depth]`);
  return { text: lines.length === 0 ? `${path} is empty` : lines.join('\n'), structured: { path, entries, truncated } };
}

function attributes(st: WireStat): Record<string, unknown> {
  return {
    type: kind(st.mode),
    size: st.size,
    mode: `0${(st.mode & 0o7777).toString(8)}`,
    uid: st.uid,
    gid: st.gid,
    mtime: new Date(st.mtimeMs).toISOString(),
  };
}

async function stat(ctx: ToolContext, args: ToolArgs, paths: PathResolver): Promise<ToolResult> {
  // A symlink's own attributes: it may point anywhere, its directory must be inside.
  const { path, real } = await paths.resolveEntry(str(args['path']) ?? '');
  const st = await ctx.host.fs.call('lstat', Buffer.from(real));
  const structured: Record<string, unknown> = { path, ...attributes(st) };
  if ((st.mode & S_IFMT) === 0o120000)
    structured['link_target'] = Buffer.from(await ctx.host.fs.call('readlink', Buffer.from(real))).toString();
  const lines = Object.entries(structured).map(([k, v]) => `${k}: ${String(v)}`);
  return { text: lines.join('\n'), structured };
}

export const listDirectoryTool: Tool = {
  name: 'list_directory',
  description:
    'List a directory on the target: each entry with its type and size (symlinks shown, not followed). `depth` > 1 ' +
    `lists subdirectories too, as relative paths. At most ${MAX_ENTRIES} entries.`,
  readOnly: true,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: { type: 'string', minLength: 1, description: 'Directory (remote or local mount path); default the workspace.' },
      depth: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['path', 'entries', 'truncated'],
    properties: {
      path: { type: 'string' },
      entries: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'type', 'size'],
          properties: { name: { type: 'string' }, type: { enum: ['file', 'directory', 'symlink', 'other'] }, size: { type: 'integer' } },
        },
      },
      truncated: { type: 'boolean' },
    },
  },
  run: listDirectory,
};

export const statTool: Tool = {
  name: 'stat',
  description: "A path's type, size, mode, owner and modification time on the target (a symlink's own, with its target).",
  readOnly: true,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: { path: { type: 'string', minLength: 1 } },
  },
  outputSchema: {
    type: 'object',
    required: ['path', 'type', 'size', 'mode', 'mtime'],
    properties: {
      path: { type: 'string' },
      type: { type: 'string' },
      size: { type: 'integer' },
      mode: { type: 'string' },
      uid: { type: 'integer' },
      gid: { type: 'integer' },
      mtime: { type: 'string' },
      link_target: { type: 'string' },
    },
  },
  run: stat,
};

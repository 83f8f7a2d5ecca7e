/**
 * read_file, write_file, edit_file: whole-file tools over the target's file operations, each
 * path confined to the mounts. Text is UTF-8; a binary file is refused as text and given as
 * base64 on request. Writes replace the file atomically (file-io.ts).
 */
import { MproxyError } from '../util/errors.js';
import { bool, int, textOf, type PathResolver, str, type Tool, type ToolArgs, type ToolContext, type ToolResult } from './context.js';
import { MAX_READ, readWhole, replaceFile } from './file-io.js';

const PATH = { type: 'string', minLength: 1, description: 'Remote path, or local mount path; relative to the workspace.' } as const;
const ENCODING = { enum: ['text', 'base64'], default: 'text' } as const;

/** Lines `first`.. (`limit` of them, else to the end) of `whole`, found by scanning for newlines, not splitting. */
export function lineRange(whole: string, first: number, limit?: number): { content: string; total: number; first: number; last: number } {
  const starts = [0];
  for (let at = whole.indexOf('\n'); at >= 0 && at + 1 < whole.length; at = whole.indexOf('\n', at + 1)) starts.push(at + 1);
  const total = whole === '' ? 0 : starts.length;
  const from = Math.max(1, first);
  const last = Math.min(total, limit === undefined ? total : from - 1 + limit);
  if (from > last) return { content: '', total, first: from, last: from - 1 };
  const end = last < total ? (starts[last] ?? whole.length) : whole.length;
  return { content: whole.slice(starts[from - 1] ?? 0, end), total, first: from, last };
}

async function readFile(ctx: ToolContext, args: ToolArgs, paths: PathResolver): Promise<ToolResult> {
  const { path, real } = await paths.resolve(str(args['path']));
  const { bytes, more } = await readWhole(ctx.host.fs, real);
  if (str(args['encoding']) === 'base64') {
    const structured = { path, encoding: 'base64', content: bytes.toString('base64'), size: bytes.length, truncated: more };
    return { text: structured.content, structured };
  }
  const whole = textOf(bytes);
  if (whole === undefined)
    throw new MproxyError('E_TOOL', `${path} is a binary file (${bytes.length}${more ? '+' : ''} bytes)`, {
      hint: 'read it with encoding: "base64"',
    });
  const { content, total, first, last } = lineRange(whole, int(args['offset']) ?? 1, int(args['limit']));
  const structured = {
    path,
    encoding: 'text',
    content,
    size: bytes.length,
    total_lines: total,
    first_line: first,
    last_line: last,
    truncated: more || last < total,
  };
  const note = more ? `\n[cut: the file is larger than ${MAX_READ / 1024 / 1024} MiB; shown up to there]` : '';
  return { text: structured.content + note, structured };
}

async function writeFile(ctx: ToolContext, args: ToolArgs, paths: PathResolver): Promise<ToolResult> {
  const { path, real } = await paths.resolve(str(args['path']));
  const content = str(args['content']) ?? '';
  const data = str(args['encoding']) === 'base64' ? Buffer.from(content, 'base64') : Buffer.from(content);
  const { created } = await replaceFile(ctx.host.fs, real, data, bool(args['create_parents']));
  const structured = { path, bytes: data.length, created };
  return { text: `${created ? 'created' : 'replaced'} ${path} (${data.length} bytes)`, structured };
}

function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

async function editFile(ctx: ToolContext, args: ToolArgs, paths: PathResolver): Promise<ToolResult> {
  const { path, real } = await paths.resolve(str(args['path']));
  const oldText = str(args['old_string']) ?? '';
  const newText = str(args['new_string']) ?? '';
  const { bytes, more } = await readWhole(ctx.host.fs, real);
  if (more) throw new MproxyError('E_TOOL', `${path} is larger than ${MAX_READ / 1024 / 1024} MiB: edit it with a shell command`);
  const before = textOf(bytes);
  if (before === undefined) throw new MproxyError('E_TOOL', `${path} is a binary file`);
  const found = occurrences(before, oldText);
  if (found === 0)
    throw new MproxyError('E_TOOL', `old_string was not found in ${path}`, { hint: 'read the file again: it may have changed' });
  if (found > 1 && !bool(args['replace_all']))
    throw new MproxyError('E_TOOL', `old_string occurs ${found} times in ${path}`, {
      hint: 'give more of the surrounding text so it is unique, or replace_all: true',
    });
  const after = bool(args['replace_all']) ? before.split(oldText).join(newText) : before.replace(oldText, () => newText);
  const data = Buffer.from(after);
  await replaceFile(ctx.host.fs, real, data, false);
  const replacements = bool(args['replace_all']) ? found : 1;
  return {
    text: `edited ${path}: ${replacements} replacement${replacements === 1 ? '' : 's'}`,
    structured: { path, replacements, bytes: data.length },
  };
}

export const readFileTool: Tool = {
  name: 'read_file',
  description:
    'Read a file on the target. Text comes back as is (`offset`: the first line, from 1; `limit`: how many lines); ' +
    `a binary file is refused unless asked with encoding "base64". Files are read up to ${MAX_READ / 1024 / 1024} MiB.`,
  readOnly: true,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: PATH,
      offset: { type: 'integer', minimum: 1, description: 'First line to return, counting from 1.' },
      limit: { type: 'integer', minimum: 1, description: 'How many lines to return.' },
      encoding: ENCODING,
    },
  },
  outputSchema: {
    type: 'object',
    required: ['path', 'encoding', 'content', 'size', 'truncated'],
    properties: {
      path: { type: 'string' },
      encoding: { type: 'string' },
      content: { type: 'string' },
      size: { type: 'integer' },
      total_lines: { type: 'integer' },
      first_line: { type: 'integer' },
      last_line: { type: 'integer' },
      truncated: { type: 'boolean' },
    },
  },
  run: readFile,
};

export const writeFileTool: Tool = {
  name: 'write_file',
  description:
    'Write a whole file on the target, replacing it atomically (readers see the old or the new file, never half; ' +
    'an existing file keeps its mode). Missing parent directories are made with create_parents: true.',
  readOnly: false,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'content'],
    properties: { path: PATH, content: { type: 'string' }, encoding: ENCODING, create_parents: { type: 'boolean', default: false } },
  },
  outputSchema: {
    type: 'object',
    required: ['path', 'bytes', 'created'],
    properties: { path: { type: 'string' }, bytes: { type: 'integer' }, created: { type: 'boolean' } },
  },
  run: writeFile,
};

export const editFileTool: Tool = {
  name: 'edit_file',
  description:
    'Replace exact text in a file on the target: old_string must occur exactly once (or give replace_all: true). ' +
    'The file is rewritten atomically.',
  readOnly: false,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'old_string', 'new_string'],
    properties: {
      path: PATH,
      old_string: { type: 'string', minLength: 1, description: 'The exact text to replace, whitespace included.' },
      new_string: { type: 'string' },
      replace_all: { type: 'boolean', default: false },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['path', 'replacements', 'bytes'],
    properties: { path: { type: 'string' }, replacements: { type: 'integer' }, bytes: { type: 'integer' } },
  },
  run: editFile,
};

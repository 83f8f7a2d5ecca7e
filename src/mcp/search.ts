/**
 * search: lines matching a regular expression under a path on the target, with ripgrep where
 * the target has it (it skips what .gitignore and hidden files hide) and grep -r otherwise.
 * Runs where the files are; only the matches travel, capped.
 */
import { shQuote } from '../remote/agentless/script.js';
import { bool, int, type PathResolver, str, text, type Tool, type ToolArgs, type ToolContext, type ToolResult } from './context.js';

const DEFAULT_MATCHES = 200;
/** A matched line is cut to this many characters in the result. */
const MAX_LINE = 500;

/** The remote command: rg when there is one, else grep; exit 1 (nothing found) is a result, not an error. */
export function searchScript(pattern: string, where: string, opts: { glob?: string; ignoreCase: boolean }): string {
  const i = opts.ignoreCase ? ' -i' : '';
  const rgGlob = opts.glob !== undefined ? ` -g ${shQuote(opts.glob)}` : '';
  const grepGlob = opts.glob !== undefined ? ` --include=${shQuote(opts.glob)}` : '';
  const p = shQuote(pattern);
  const w = shQuote(where);
  return [
    'if command -v rg >/dev/null 2>&1; then',
    `  echo rg >&2; exec rg --line-number --no-heading --with-filename --color never${i}${rgGlob} -e ${p} -- ${w}`,
    'else',
    `  echo grep >&2; exec grep -rnHE${i}${grepGlob} -e ${p} -- ${w}`,
    'fi',
  ].join('\n');
}

interface Match {
  readonly path: string;
  readonly line: number;
  readonly text: string;
}

/** `path:line:text` lines (a path with `:N:` in it is read at its first such place). */
export function parseMatches(out: string, max: number): { matches: Match[]; more: boolean } {
  const matches: Match[] = [];
  const lines = out.split('\n').filter((l) => l !== '');
  for (const l of lines) {
    const m = /^(.*?):(\d+):(.*)$/.exec(l);
    if (m === null) continue;
    if (matches.length === max) return { matches, more: true };
    const body = m[3] ?? '';
    matches.push({ path: m[1] ?? '', line: Number(m[2]), text: body.length > MAX_LINE ? `${body.slice(0, MAX_LINE)}…` : body });
  }
  return { matches, more: false };
}

async function search(ctx: ToolContext, args: ToolArgs, paths: PathResolver): Promise<ToolResult> {
  const { path, real } = await paths.resolve(str(args['path']));
  const glob = str(args['glob']);
  const script = searchScript(str(args['pattern']) ?? '', real, {
    ignoreCase: bool(args['ignore_case']),
    ...(glob !== undefined ? { glob } : {}),
  });
  const proc = ctx.host.exec({ argv: ['/bin/sh', '-c', script], env: ctx.env, cwd: '/' });
  proc.stdin.end();
  const out: Buffer[] = [];
  let kept = 0;
  let cut = false;
  proc.stdout.on('data', (d: Buffer) => {
    if (kept >= ctx.maxOutputBytes) {
      // Enough to show: the rest of the search is not worth running.
      if (!cut) proc.signal('SIGTERM');
      cut = true;
      return;
    }
    out.push(d);
    kept += d.length;
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await proc.exited;
  const [tool = 'grep', ...complaint] = err.split('\n');
  if (!cut && status.code !== 0 && status.code !== 1)
    throw new Error(`${tool} failed (${status.code ?? status.signal}): ${complaint.join(' ').trim() || 'no message'}`);
  const { matches, more } = parseMatches(text(Buffer.concat(out)), int(args['max_results']) ?? DEFAULT_MATCHES);
  const truncated = cut || more;
  const lines = matches.map((m) => `${m.path}:${m.line}: ${m.text}`);
  if (truncated) lines.push('[cut: more matches; narrow the pattern, the path or the glob]');
  return { text: matches.length === 0 ? `no match under ${path}` : lines.join('\n'), structured: { path, tool, matches, truncated } };
}

export const searchTool: Tool = {
  name: 'search',
  description:
    'Search file contents on the target for a regular expression (ripgrep when the target has it, which skips ' +
    'ignored and hidden files; else grep -rE). Returns path:line: text for each match, up to max_results.',
  readOnly: true,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['pattern'],
    properties: {
      pattern: { type: 'string', minLength: 1, description: 'Extended regular expression.' },
      path: { type: 'string', minLength: 1, description: 'Directory or file to search; default the workspace.' },
      glob: { type: 'string', minLength: 1, description: 'Only files whose name matches, e.g. "*.ts".' },
      ignore_case: { type: 'boolean', default: false },
      max_results: { type: 'integer', minimum: 1, maximum: 10_000, default: DEFAULT_MATCHES },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['path', 'tool', 'matches', 'truncated'],
    properties: {
      path: { type: 'string' },
      tool: { type: 'string' },
      matches: {
        type: 'array',
        items: {
          type: 'object',
          required: ['path', 'line', 'text'],
          properties: { path: { type: 'string' }, line: { type: 'integer' }, text: { type: 'string' } },
        },
      },
      truncated: { type: 'boolean' },
    },
  },
  run: search,
};

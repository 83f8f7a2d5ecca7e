/**
 * run_shell_command: `sh -c COMMAND` on the target, in the workspace or a given directory inside
 * the mounts, with the environment [env] lets through, optional stdin, and a deadline after
 * which the command's process group gets SIGTERM, then SIGKILL. Each stream is kept up to the
 * output cap (the rest is counted, not kept); the call is recorded as a command like any other.
 */
import { signalNumber } from '../broker/signals.js';
import { shellStatus } from '../remote/host.js';
import { type PathResolver, str, text, type Tool, type ToolContext, type ToolResult, int } from './context.js';

/** After SIGTERM at the deadline, this long before SIGKILL. */
const KILL_GRACE_MS = 2000;

interface Kept {
  readonly chunks: Buffer[];
  kept: number;
  total: number;
}

function keep(into: Kept, chunk: Buffer, cap: number): void {
  into.total += chunk.length;
  const room = cap - into.kept;
  if (room <= 0) return;
  const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
  into.chunks.push(part);
  into.kept += part.length;
}

async function run(ctx: ToolContext, args: Readonly<Record<string, unknown>>, paths: PathResolver): Promise<ToolResult> {
  const command = str(args['command']) ?? '';
  const cwd = (await paths.resolve(str(args['cwd']))).real;
  const timeoutMs = (int(args['timeout']) ?? 0) > 0 ? (int(args['timeout']) ?? 0) * 1000 : ctx.shellTimeoutMs;
  const argv = ['/bin/sh', '-c', command];
  const started = Date.now();
  const id = ctx.audit?.started(argv, cwd, ctx.env);
  const out: Kept = { chunks: [], kept: 0, total: 0 };
  const err: Kept = { chunks: [], kept: 0, total: 0 };
  const proc = ctx.host.exec({ argv, env: ctx.env, cwd });
  proc.stdout.on('data', (d: Buffer) => {
    keep(out, d, ctx.maxOutputBytes);
    if (id !== undefined) ctx.audit?.data(id, 1, d);
  });
  proc.stderr.on('data', (d: Buffer) => {
    keep(err, d, ctx.maxOutputBytes);
    if (id !== undefined) ctx.audit?.data(id, 2, d);
  });
  proc.stdin.on('error', () => undefined);
  proc.stdin.end(str(args['stdin']) ?? '');
  let timedOut = false;
  let kill: NodeJS.Timeout | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    proc.signal('SIGTERM');
    kill = setTimeout(() => proc.signal('SIGKILL'), KILL_GRACE_MS);
  }, timeoutMs);
  try {
    const status = await proc.exited;
    if (id !== undefined) ctx.audit?.ended(id, status.code, status.signal);
    const stdout = text(Buffer.concat(out.chunks));
    const stderr = text(Buffer.concat(err.chunks));
    const ms = Date.now() - started;
    const structured = {
      exit_code: status.code,
      signal: status.signal,
      status: shellStatus(status, signalNumber),
      stdout,
      stderr,
      stdout_truncated: out.total > out.kept,
      stderr_truncated: err.total > err.kept,
      timed_out: timedOut,
      duration_ms: ms,
    };
    return { text: describe(structured, out, err, timeoutMs), structured };
  } catch (e) {
    if (id !== undefined) ctx.audit?.ended(id, null, null);
    throw e;
  } finally {
    clearTimeout(deadline);
    clearTimeout(kill);
  }
}

function describe(
  r: { exit_code: number | null; signal: string | null; stdout: string; stderr: string; timed_out: boolean; duration_ms: number },
  out: Kept,
  err: Kept,
  timeoutMs: number,
): string {
  const cut = (k: Kept): string => (k.total > k.kept ? `[cut: ${k.total - k.kept} more bytes not shown]\n` : '');
  const ended = (t: string): string => (t === '' || t.endsWith('\n') ? t : `${t}\n`);
  let shown = ended(r.stdout) + cut(out);
  if (r.stderr !== '' || err.total > 0) shown += `--- stderr ---\n${ended(r.stderr)}${cut(err)}`;
  const how = r.signal !== null ? `killed by ${r.signal}` : `exit code ${r.exit_code ?? '?'}`;
  const late = r.timed_out ? `, stopped after the ${timeoutMs / 1000} s timeout` : '';
  return `${shown}--- ${how}${late} (${r.duration_ms} ms) ---`;
}

export const runShellCommand: Tool = {
  name: 'run_shell_command',
  description:
    "Run a command with the target's /bin/sh (sh -c) and return its stdout, stderr and exit code. Runs in the " +
    'workspace unless `cwd` names a directory inside the mounts; stdin is empty unless given. Output past the cap ' +
    'is cut (the result says how much); a command still running at `timeout` seconds is stopped.',
  readOnly: false,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['command'],
    properties: {
      command: { type: 'string', minLength: 1, description: 'The shell command line, as for sh -c.' },
      cwd: { type: 'string', minLength: 1, description: 'Directory to run in (remote or local mount path); default the workspace.' },
      timeout: { type: 'integer', minimum: 1, maximum: 86_400, description: 'Seconds before the command is stopped.' },
      stdin: { type: 'string', description: "Text given to the command's standard input." },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['exit_code', 'signal', 'status', 'stdout', 'stderr', 'stdout_truncated', 'stderr_truncated', 'timed_out', 'duration_ms'],
    properties: {
      exit_code: { type: ['integer', 'null'], description: 'null when a signal ended it' },
      signal: { type: ['string', 'null'] },
      status: { type: 'integer', description: 'as a shell reports it: the code, or 128+N for signal N' },
      stdout: { type: 'string' },
      stderr: { type: 'string' },
      stdout_truncated: { type: 'boolean' },
      stderr_truncated: { type: 'boolean' },
      timed_out: { type: 'boolean' },
      duration_ms: { type: 'integer' },
    },
  },
  run,
};

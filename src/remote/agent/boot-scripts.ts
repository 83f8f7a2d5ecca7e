/**
 * The POSIX sh scripts that find node, upload the agent and start it, shared by every
 * transport (ssh exec channels, docker exec). Their status lines carry a marker, so whatever a
 * login shell prints around them is ignored. No single quotes: the ssh transport wraps them.
 */
import { MproxyError } from '../../util/errors.js';
import { agentBundle } from './bundle.js';

export type NodeStatus = { readonly kind: 'ready' } | { readonly kind: 'need-upload' } | { readonly kind: 'no-node' } | { readonly kind: 'old-node'; readonly version: string };

const MARK = 'MPROXY-BOOT:';

export function probeScript(): string {
  return [
    `f="$HOME/.cache/mproxy/${agentBundle().cacheName}"`,
    `command -v node >/dev/null 2>&1 || { echo ${MARK}no-node; exit 0; }`,
    'v=$(node --version 2>/dev/null)',
    `case "$v" in v1[89].*|v[2-9][0-9].*) ;; *) echo "${MARK}old-node $v"; exit 0;; esac`,
    `if [ -f "$f" ]; then echo ${MARK}ready; else echo ${MARK}need-upload; fi`,
  ].join('\n');
}

/** The probe's verdict, or undefined when its output has none (the shell did not run it). */
export function parseProbe(stdout: string): NodeStatus | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK))?.slice(MARK.length).trim();
  if (line === 'ready' || line === 'need-upload' || line === 'no-node') return { kind: line } as NodeStatus;
  if (line?.startsWith('old-node') === true) return { kind: 'old-node', version: line.slice('old-node'.length).trim() || 'unknown' };
  return undefined;
}

/** Reads the agent on stdin into a temporary name and renames it into place (atomic, no ETXTBSY). */
export function uploadScript(): string {
  const bundle = agentBundle();
  return [
    'umask 077',
    'd="$HOME/.cache/mproxy"',
    'mkdir -p "$d" || exit 1',
    't="$d/.upload.$$"',
    `cat > "$t" && [ "$(wc -c < "$t")" -eq ${bundle.bytes.length} ] && mv -f "$t" "$d/${bundle.cacheName}" && exit 0`,
    'rc=$?; rm -f "$t"; exit $rc',
  ].join('\n');
}

export function startScript(): string {
  return `exec node "$HOME/.cache/mproxy/${agentBundle().cacheName}"`;
}

/** How a transport runs a short script with some stdin and collects what it printed. */
export interface ScriptRunner {
  readonly description: string;
  run(script: string, input?: Buffer): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>;
}

/** Is node there, and is this agent already cached? */
export async function probeNode(remote: ScriptRunner): Promise<NodeStatus> {
  const r = await remote.run(probeScript());
  const status = parseProbe(r.stdout);
  if (status !== undefined) return status;
  throw new MproxyError('E_AGENT_START', `could not run a shell command on ${remote.description}`, {
    hint: [`exit status ${String(r.code)}`, r.stderr.trim() || r.stdout.trim() || 'no output (is there a POSIX shell at /bin/sh?)'],
  });
}

export async function uploadAgent(remote: ScriptRunner): Promise<void> {
  const r = await remote.run(uploadScript(), agentBundle().bytes);
  if (r.code === 0) return;
  throw new MproxyError('E_AGENT_START', `uploading the agent to ${remote.description} failed: ${r.stderr.trim() || `exit status ${String(r.code)}`}`, {
    hint: ['the agent (about 100 KB) goes to ~/.cache/mproxy/ on the remote: is that disk full or read-only?', 'or set agent = "none" in [target] to work without it'],
  });
}

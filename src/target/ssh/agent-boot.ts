/**
 * Starting the agent on an SSH remote. One probe finds node (>= 18) and whether this agent's
 * content-addressed file is already in ~/.cache/mproxy; if not it is uploaded to a temporary
 * name and renamed (atomic: sessions sharing the host never see half a file, and a running agent
 * is never overwritten); then `node agent.cjs` runs on one exec channel for the whole session.
 * Lines of the probe are found by a marker, so banners and .bashrc output do not matter.
 */
import type { SshClient as Client } from './ssh2.js';
import { AgentClient, type AgentClientOptions } from '../../remote/agent/client.js';
import { agentBundle } from '../../remote/agent/bundle.js';
import { MproxyError } from '../../util/errors.js';
import { openExec, runScript, shWrapped } from './exec-channel.js';

export type NodeStatus = { readonly kind: 'ready' | 'need-upload' } | { readonly kind: 'no-node' } | { readonly kind: 'old-node'; readonly version: string };

const MARK = 'MPROXY-BOOT:';

function probeScript(file: string): string {
  return [
    `f="$HOME/.cache/mproxy/${file}"`,
    `command -v node >/dev/null 2>&1 || { echo ${MARK}no-node; exit 0; }`,
    'v=$(node --version 2>/dev/null)',
    `case "$v" in v1[89].*|v[2-9][0-9].*) ;; *) echo "${MARK}old-node $v"; exit 0;; esac`,
    `if [ -f "$f" ]; then echo ${MARK}ready; else echo ${MARK}need-upload; fi`,
  ].join('\n');
}

export async function probeNode(client: Client, description: string): Promise<NodeStatus> {
  const r = await runScript(client, probeScript(agentBundle().cacheName), description);
  const line = r.stdout.split('\n').find((l) => l.startsWith(MARK))?.slice(MARK.length).trim();
  if (line === 'ready' || line === 'need-upload' || line === 'no-node') return { kind: line };
  if (line?.startsWith('old-node') === true) return { kind: 'old-node', version: line.slice('old-node'.length).trim() || 'unknown' };
  throw new MproxyError('E_AGENT_START', `could not run a shell command on ${description}`, { hint: [`exit status ${String(r.code)}`, r.stderr.trim() || r.stdout.trim() || 'no output'] });
}

export async function uploadAgent(client: Client, description: string): Promise<void> {
  const bundle = agentBundle();
  const script = [
    'umask 077',
    'd="$HOME/.cache/mproxy"',
    'mkdir -p "$d" || exit 1',
    't="$d/.upload.$$"',
    `cat > "$t" && [ "$(wc -c < "$t")" -eq ${bundle.bytes.length} ] && mv -f "$t" "$d/${bundle.cacheName}" && exit 0`,
    'rc=$?; rm -f "$t"; exit $rc',
  ].join('\n');
  const r = await runScript(client, script, description, bundle.bytes);
  if (r.code !== 0) {
    throw new MproxyError('E_AGENT_START', `uploading the agent to ${description} failed: ${r.stderr.trim() || `exit status ${String(r.code)}`}`, {
      hint: ['the agent (about 100 KB) goes to ~/.cache/mproxy/ on the remote: is that disk full or read-only?', 'or set agent = "none" in [target] to work without it'],
    });
  }
}

export async function startAgent(client: Client, description: string, options: AgentClientOptions & { readonly stderr?: (text: string) => void }): Promise<AgentClient> {
  const channel = await openExec(client, shWrapped(`exec node "$HOME/.cache/mproxy/${agentBundle().cacheName}"`), description);
  channel.stderr.on('data', (d: Buffer) => options.stderr?.(d.toString()));
  return AgentClient.connect(
    {
      input: channel,
      output: channel,
      description,
      close: () =>
        new Promise<void>((resolve) => {
          if (channel.destroyed) return resolve();
          channel.once('close', () => resolve());
          channel.end();
          setTimeout(() => {
            channel.close();
            resolve();
          }, 2000).unref();
        }),
    },
    options,
  );
}

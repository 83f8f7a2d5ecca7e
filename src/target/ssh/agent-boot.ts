/**
 * Starting the agent on an SSH remote. One probe finds node (>= 18) and whether this agent's
 * content-addressed file is already in ~/.cache/mproxy; if not it is uploaded to a temporary
 * name and renamed (atomic: sessions sharing the host never see half a file, and a running agent
 * is never overwritten); then `node agent.cjs` runs on one exec channel for the whole session.
 * The scripts themselves are shared with other transports (remote/agent/boot-scripts.ts).
 */
import type { SshClient as Client } from './ssh2.js';
import { AgentClient, type AgentClientOptions } from '../../remote/agent/client.js';
import { agentBundle } from '../../remote/agent/bundle.js';
import { parseProbe, probeScript, startScript, uploadScript, UPLOAD_FAILED_HINTS, type NodeStatus } from '../../remote/agent/boot-scripts.js';
import { MproxyError } from '../../util/errors.js';

export type { NodeStatus };
import { openExec, runScript, shWrapped } from './exec-channel.js';

export async function probeNode(client: Client, description: string): Promise<NodeStatus> {
  const r = await runScript(client, probeScript(), description);
  const status = parseProbe(r.stdout);
  if (status !== undefined) return status;
  throw new MproxyError('E_AGENT_START', `could not run a shell command on ${description}`, { hint: [`exit status ${String(r.code)}`, r.stderr.trim() || r.stdout.trim() || 'no output'] });
}

export async function uploadAgent(client: Client, description: string): Promise<void> {
  const r = await runScript(client, uploadScript(), description, agentBundle().bytes);
  if (r.code !== 0) {
    throw new MproxyError('E_AGENT_START', `uploading the agent to ${description} failed: ${r.stderr.trim() || `exit status ${String(r.code)}`}`, {
      hint: UPLOAD_FAILED_HINTS,
    });
  }
}

export async function startAgent(client: Client, description: string, options: AgentClientOptions & { readonly stderr?: (text: string) => void }): Promise<AgentClient> {
  const channel = await openExec(client, shWrapped(startScript()), description);
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

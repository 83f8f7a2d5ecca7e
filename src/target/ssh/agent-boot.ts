/**
 * The SSH side of starting the agent: the probe and the upload (remote/agent/boot-scripts.ts,
 * shared with Docker) run as scripts on exec channels; then `node agent.cjs` runs on one exec
 * channel for the whole session.
 */
import type { SshClient as Client } from './ssh2.js';
import { AgentClient, type AgentClientOptions } from '../../remote/agent/client.js';
import type { ScriptRunner } from '../../remote/agent/boot-scripts.js';
import { openExec, runScript, shWrapped } from './exec-channel.js';

/** The boot scripts' runner over SSH exec channels. */
export function sshRunner(client: Client, description: string, timeoutMs: number): ScriptRunner {
  return { description, run: (script, input) => runScript(client, script, description, timeoutMs, input) };
}

export async function startAgent(
  client: Client,
  description: string,
  startScript: string,
  options: AgentClientOptions & { readonly stderr?: (text: string) => void },
): Promise<AgentClient> {
  const channel = await openExec(client, shWrapped(startScript), description);
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

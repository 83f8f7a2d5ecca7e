/**
 * The `local` target: the agent as a child process of mproxy on this machine, over pipes. The
 * embedded default for demos, and the reference backend of the conformance suite.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { AgentClient, type AgentClientOptions } from '../remote/agent/client.js';
import { agentBundle, NODE_FLAGS, ptyHelper } from '../remote/agent/bundle.js';

export async function connectLocal(options: AgentClientOptions = {}): Promise<AgentClient> {
  const helper = ptyHelper();
  const child = spawn(process.execPath, [...NODE_FLAGS, agentBundle().path, ...(helper !== undefined ? [helper.path] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').catch(() => undefined);
  return AgentClient.connect(
    {
      input: child.stdout,
      output: child.stdin,
      description: 'the local agent',
      async close() {
        if (child.exitCode === null && child.signalCode === null) {
          child.stdin.end();
          const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
          await exited;
          clearTimeout(timer);
        }
      },
    },
    options,
  );
}

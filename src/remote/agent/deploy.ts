/**
 * Getting the agent running over any transport: the quick start for a remote that ran this
 * agent before, else the probe (node there? agent cached?), the upload of what is missing, and
 * the start; then the agent speaks over that one exec for the whole session.
 */
import { endChannel, type Transport } from '../../transport/transport.js';
import { MproxyError } from '../../util/errors.js';
import { agentBundle, helperRunsOn, ptyHelper, type Payload } from './bundle.js';
import { NOT_READY, parseProbe, probeScript, startScript, uploadScript, type Probe } from './boot-scripts.js';
import { AgentClient } from './client.js';
import type { AgentClientOptions } from './options.js';

export interface AgentStartOptions extends AgentClientOptions {
  /** What the agent writes on stderr (its crash reports), line by line as it comes. */
  readonly stderr?: (text: string) => void;
}

/**
 * The agent started by `script` on one exec of `transport`, spoken to over its stdio. Once it has
 * said Hello it owns the transport: closing it (or losing it) ends the exec and the transport.
 * An agent that never says Hello ends only its exec, so the transport can try another way.
 */
export async function startAgent(transport: Transport, script: string, options: AgentStartOptions): Promise<AgentClient> {
  const channel = await transport.exec(script);
  channel.stderr.on('data', (d: Buffer) => options.stderr?.(d.toString()));
  let owner = false;
  const close = async (): Promise<void> => {
    await endChannel(channel);
    if (owner) await transport.close();
  };
  const client = await AgentClient.connect(
    { input: channel.stdout, output: channel.stdin, description: transport.description, close },
    options,
  );
  owner = true;
  return client;
}

/**
 * Runs `start` (the quick start on a transport) and returns its host, or undefined when the
 * remote needs the probe: the agent ended before its Hello (no node, no cached agent, a damaged
 * one). A start that did not answer within `timeoutMs` is a stalled remote, said as such.
 */
export async function tryQuickStart<H>(
  start: () => Promise<H>,
  description: string,
  timeoutMs: number,
  say?: (message: string) => void,
): Promise<H | undefined> {
  try {
    const host = await start();
    say?.(`tier agent on ${description} (the cached agent started)`);
    return host;
  } catch (err) {
    if (!(err instanceof MproxyError) || (err.code !== 'E_AGENT_START' && err.code !== 'E_CONNECTION_LOST')) throw err;
    if (/did not answer within/.test(err.message)) {
      throw new MproxyError('E_TIMEOUT', `starting the agent on ${description} did not finish within ${(timeoutMs / 1000).toFixed(0)}s`, {
        hint: ['does a login script on the remote wait for input, or is the server overloaded?', 'target.op_timeout sets this deadline'],
      });
    }
    say?.(`probing ${description} (${[err.message, ...err.hints].join(' ').includes(NOT_READY) ? 'no cached agent' : err.message})`);
    return undefined;
  }
}

/** Is node there, is this agent already cached, what kind of machine is it? */
export async function probeRemote(transport: Transport): Promise<Probe> {
  const r = await transport.runScript(probeScript());
  const stdout = r.stdout.toString();
  const probe = parseProbe(stdout);
  if (probe !== undefined) return probe;
  throw new MproxyError('E_AGENT_START', `could not run a shell command on ${transport.description}`, {
    hint: [
      `exit status ${String(r.code)}`,
      r.stderr.toString().trim() || stdout.trim() || 'no output (is there a POSIX shell at /bin/sh?)',
    ],
  });
}

async function upload(transport: Transport, what: string, file: Payload, mode: '600' | '700'): Promise<void> {
  const r = await transport.runScript(uploadScript(file, mode), file.bytes);
  if (r.code === 0) return;
  const why = r.stderr.toString().trim() || `exit status ${String(r.code)}`;
  throw new MproxyError('E_AGENT_START', `uploading ${what} (${file.cacheName}) to ${transport.description} failed: ${why}`, {
    hint: [
      `the agent (about ${Math.ceil(agentBundle().bytes.length / 1024)} KB) and its pty helper go to ~/.cache/mproxy/ on the ` +
        `remote: is that disk full or read-only?`,
      'or set agent = "none" in [target] to work without it',
    ],
  });
}

/**
 * Uploads what the remote lacks (the agent; the pty helper where it can run there) and returns
 * the script that starts the agent. The probe must have found node >= 18.
 */
export async function deployAgent(transport: Transport, probe: Probe, say?: (message: string) => void): Promise<string> {
  const where = transport.description;
  if (probe.node.kind === 'need-upload') {
    say?.(`uploading the agent to ${where}`);
    await upload(transport, 'the agent', agentBundle(), '600');
  }
  const helper = ptyHelper();
  const helperFits = helper !== undefined && helperRunsOn(probe.system, probe.machine);
  if (helperFits && !probe.helperCached) {
    say?.(`uploading the pty helper to ${where}`);
    await upload(transport, 'the pty helper', helper, '700');
  }
  if (!helperFits) {
    const built = helper === undefined ? '; none was built here' : '';
    say?.(`no pty helper for ${where} (${probe.system} ${probe.machine}${built}): no pseudo-terminals there`);
  }
  return startScript(helperFits);
}

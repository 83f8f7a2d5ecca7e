/**
 * The tier, chosen once for every transport: the agent where the remote has node >= 18 (`agent`
 * = "auto" or "node"), else agentless (under "auto", or always with "none"), saying which was
 * picked and why. A remote that ran this agent before starts it at once; any other goes through
 * the probe and the upload.
 */
import type { Transport } from '../transport/transport.js';
import { MproxyError } from '../util/errors.js';
import type { AgentStartOptions } from './agent/deploy.js';
import { AgentlessHost } from './agentless/host.js';
import { shQuote } from './agentless/script.js';
import type { RemoteHost } from './host.js';

export type AgentMode = 'auto' | 'node' | 'none';

export interface TierOptions {
  readonly agent: AgentMode;
  /** Why agent "none" was asked for, when not by the profile (verbose says it). */
  readonly agentlessWhy?: string;
  /** Only one command will run: an agentless host skips its probe (RemoteInfo.loginAtStart). */
  readonly oneCommand?: boolean;
  /** target.op_timeout: the deadline of every file operation, query and script. */
  readonly opTimeoutMs: number;
  readonly verbose?: (message: string) => void;
}

function agentOptions(options: TierOptions, transport?: Transport): AgentStartOptions {
  const say = options.verbose;
  const { connectTo, listenOn } = transport ?? {};
  return {
    opTimeoutMs: options.opTimeoutMs,
    startTimeoutMs: options.opTimeoutMs,
    // The transport's own forwarding (sshd) where it has it: faster than through the agent.
    ...(connectTo !== undefined && listenOn !== undefined
      ? { net: { connectTo: connectTo.bind(transport), listenOn: listenOn.bind(transport) } }
      : {}),
    ...(say !== undefined
      ? {
          onLog: (level: string, msg: string) => say(`agent ${level}: ${msg}`),
          stderr: (text: string) => say(`agent stderr: ${text.trimEnd()}`),
        }
      : {}),
  };
}

/** A RemoteHost of the right tier over `transport`; closing the host closes the transport. */
export async function openHost(transport: Transport, options: TierOptions): Promise<RemoteHost> {
  try {
    return await chooseTier(transport, options);
  } catch (err) {
    await transport.close();
    throw err;
  }
}

async function chooseTier(transport: Transport, options: TierOptions): Promise<RemoteHost> {
  const say = options.verbose;
  const where = transport.description;
  const agentless = (why: string): Promise<RemoteHost> => {
    say?.(`tier agentless on ${where} (${why})`);
    return AgentlessHost.start(transport, options.opTimeoutMs, { probe: options.oneCommand !== true });
  };
  if (options.agent === 'none') return agentless(options.agentlessWhy ?? 'agent = "none"');
  // The agent's side (its client, the frame codec, cbor-x) loads only when the agent may be used.
  const [{ quickStartScript }, { deployAgent, probeRemote, startAgent, tryQuickStart }] = await Promise.all([
    import('./agent/boot-scripts.js'),
    import('./agent/deploy.js'),
  ]);
  const start = agentOptions(options, transport);
  const quick = await tryQuickStart(() => startAgent(transport, quickStartScript(), start), where, options.opTimeoutMs, say);
  if (quick !== undefined) return quick;
  const probe = await probeRemote(transport);
  const status = probe.node;
  if (status.kind === 'no-node' || status.kind === 'old-node') {
    const why = status.kind === 'no-node' ? `${where} has no node` : `${where} has node ${status.version}, older than 18`;
    if (options.agent === 'node')
      throw new MproxyError('E_AGENT_START', `agent = "node", but ${why}`, {
        hint: 'install Node.js >= 18 there (for a container: an image with it), or set agent = "auto" to work without the agent',
      });
    return agentless(why);
  }
  const script = await deployAgent(transport, probe, say);
  say?.(`tier agent on ${where} (node found${status.kind === 'ready' ? ', agent already cached' : ''})`);
  try {
    return await startAgent(transport, script, start);
  } catch (err) {
    // An agent that will not start (or speaks another protocol) is not worth failing over under "auto".
    if (options.agent !== 'auto' || !(err instanceof MproxyError) || err.code !== 'E_AGENT_START') throw err;
    return agentless(`the agent did not start: ${err.message}`);
  }
}

/**
 * The agent of the `local` target: this machine runs the bundle built here, so there is
 * nothing to probe or upload.
 */
export async function openLocalAgent(transport: Transport, options: Omit<TierOptions, 'agent'>): Promise<RemoteHost> {
  const [{ agentBundle, NODE_FLAGS, ptyHelper }, { startAgent }] = await Promise.all([
    import('./agent/bundle.js'),
    import('./agent/deploy.js'),
  ]);
  const helper = ptyHelper();
  const argv = [process.execPath, ...NODE_FLAGS, agentBundle().path, ...(helper !== undefined ? [helper.path] : [])];
  try {
    return await startAgent(transport, `exec ${argv.map(shQuote).join(' ')}`, agentOptions({ ...options, agent: 'node' }));
  } catch (err) {
    await transport.close();
    throw err;
  }
}

/** The agent as built (dist/agent/mproxy-agent.cjs): its bytes, content hash and cache name. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MproxyError } from '../../util/errors.js';

export interface AgentBundle {
  readonly path: string;
  readonly bytes: Buffer;
  readonly sha256: string;
  /** File name in the remote cache: content-addressed, so sessions never clash. */
  readonly cacheName: string;
}

let cached: AgentBundle | undefined;

export function agentBundle(): AgentBundle {
  if (cached !== undefined) return cached;
  const path = fileURLToPath(new URL('../../../agent/mproxy-agent.cjs', import.meta.url));
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new MproxyError('E_AGENT_START', `the agent bundle is missing (${path})`, { hint: 'run `npm run build`', cause: err });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  cached = { path, bytes, sha256, cacheName: `agent-${sha256.slice(0, 32)}.cjs` };
  return cached;
}

/** What the agent's Hello says of the remote, as the RemoteInfo every tier gives. */
import type { AgentInfo, Capability } from '../../protocol/frames.js';
import type { RemoteInfo } from '../host.js';

export function agentRemoteInfo(i: AgentInfo | undefined, caps: readonly Capability[]): RemoteInfo {
  return {
    tier: 'agent',
    platform: i?.platform ?? 'unknown',
    arch: i?.arch ?? 'unknown',
    home: i?.home ?? '/',
    user: i?.user ?? '',
    path: i?.path ?? '/usr/local/bin:/usr/bin:/bin',
    shell: i?.shell ?? '/bin/sh',
    capabilities: caps,
    ...(typeof i?.uid === 'number' && typeof i.gid === 'number' ? { uid: i.uid, gid: i.gid } : {}),
    limitations: caps.includes('pty')
      ? []
      : [{ feature: 'pty', why: `no pty helper runs there (the one built here is for ${process.platform} ${process.arch})` }],
  };
}

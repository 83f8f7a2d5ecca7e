/**
 * `validate --connect`: a valid profile's target reached as `up` would reach it — resolved,
 * connected, authenticated, host key checked, tier chosen (the agent uploaded to its
 * content-addressed cache and started when it can run), each mount's remote directory looked
 * at, the remote PATH listed — then closed. Each failure is a diagnostic located at the profile
 * line that configures it; nothing but the agent cache is left on the remote.
 */
import { mountsOn, settingsOf } from '../profile/runtime.js';
import { locate, type Diagnostic, type Finding } from '../profile/diagnostics.js';
import type { LoadResult } from '../profile/load.js';
import { RemoteFsError, type RemoteHost } from '../remote/host.js';
import { isMproxyError, messageOf } from '../util/errors.js';
import { connect, type ConnectOptions } from './connect.js';

export interface ConnectionCheck {
  /** What was reached and how, in order (one line each). */
  readonly steps: string[];
  readonly diagnostics: Diagnostic[];
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

export async function checkConnection(result: LoadResult, options: ConnectOptions): Promise<ConnectionCheck> {
  const steps: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const profile = result.profile;
  if (profile === undefined) return { steps, diagnostics };
  const problem = (finding: Finding): void => void diagnostics.push(locate(finding, result.origins, result.file));
  let host: RemoteHost;
  try {
    host = await connect(profile, { ...options, verbose: (m) => steps.push(m) });
  } catch (err) {
    problem({
      pointer: '/target/uri',
      message: `cannot reach ${profile.target.uri}: ${messageOf(err)}`,
      hints: isMproxyError(err) ? [...err.hints] : [],
    });
    return { steps, diagnostics };
  }
  try {
    const info = host.info();
    steps.push(`reached ${profile.target.uri}: tier ${info.tier}, ${info.platform}/${info.arch}, user ${info.user}, home ${info.home}`);
    for (const [i, spec] of mountsOn(settingsOf(profile), info.home).entries()) {
      try {
        const st = await host.fs.call('stat', Buffer.from(spec.remote));
        if ((st.mode & S_IFMT) !== S_IFDIR)
          problem({ pointer: `/mounts/${i}/remote`, message: `${spec.remote} on the remote is not a directory` });
        else steps.push(`mounts[${i}]: ${spec.remote} is a directory on the remote`);
      } catch (err) {
        const gone = err instanceof RemoteFsError && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
        problem({
          pointer: `/mounts/${i}/remote`,
          message: gone ? `${spec.remote} does not exist on the remote` : `${spec.remote} on the remote: ${messageOf(err)}`,
          hints: ['create it on the remote, or correct mounts.remote'],
        });
      }
    }
    try {
      const found = await host.pathQuery();
      steps.push(`the remote PATH holds ${found.length} commands`);
    } catch (err) {
      problem({ pointer: '/target/uri', message: `cannot list the commands on the remote PATH: ${messageOf(err)}`, severity: 'warning' });
    }
  } finally {
    await host.close();
  }
  return { steps, diagnostics };
}

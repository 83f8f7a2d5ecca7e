/**
 * Whether a command that holds a connection (`up`, `mount`, `forward`) also serves it as the
 * profile's live session, for `mproxy exec` (runner/live-session.ts): yes, unless --set changed
 * the profile — a client names the file, and the file says something else.
 */
import type { LiveOptions } from '../runner/live-session.js';
import { messageOf } from '../util/errors.js';
import { liveSocket } from '../util/live-socket.js';
import type { CommandIO } from './command.js';
import { describeFailure } from './output.js';

/** `exec`'s own failures exit 125, through a live session as cold. */
const EXEC_FAILURE_EXIT = 125;

export function liveOptions(profileFile: string, set: unknown, io: CommandIO): LiveOptions | undefined {
  if (Array.isArray(set) && set.length > 0) {
    io.verbose?.('live session: not served, --set makes this profile differ from its file');
    return undefined;
  }
  try {
    return { socket: liveSocket(profileFile, io.env), describe: (err) => describeFailure(err, EXEC_FAILURE_EXIT) };
  } catch (err) {
    io.stderr(`mproxy: warning: no live session for \`mproxy exec\`: ${messageOf(err)}\n`);
    return undefined;
  }
}

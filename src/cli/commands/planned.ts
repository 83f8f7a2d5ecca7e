/**
 * Commands of the normative CLI that later milestones deliver. They are listed in help with
 * their usage so the surface is visible, and say plainly that this build does not have them.
 */
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';

function planned(name: string, summary: string, usage: string, failureExit: number): Command {
  return {
    name,
    summary,
    usage,
    details: ['Not available in this build yet.'],
    options: {},
    failureExit,
    available: false,
    run() {
      throw new MproxyError('E_NOT_IMPLEMENTED', `\`mproxy ${name}\` is not available in this build yet`, {
        hint: 'available now: up, validate, config, schema, exec, mount, doctor; see README.md for the roadmap',
      });
    },
  };
}

export const logCommand = planned('log', 'list the commands of a recording, or print one command\'s output', 'mproxy log RECORDING [--json] [--show N]', 1);


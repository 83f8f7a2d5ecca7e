#!/usr/bin/env -S node --initial-old-space-size=64
/**
 * The mproxy command line: global flags, dispatch to a subcommand, and the single place where a
 * failure becomes a message and an exit status. No stack trace reaches the user unless --debug.
 * The first line gives node the agent's NODE_FLAGS (remote/agent/bundle.ts says why).
 */
import { homedir } from 'node:os';
import { MproxyError, isMproxyError, messageOf } from '../util/errors.js';
import { closest } from '../util/suggest.js';
import { enableTrace } from '../util/trace.js';
import { parseCommandArgs } from './args.js';
import type { Command, CommandIO } from './command.js';
import { EXIT_USAGE } from './exit-codes.js';
import { commandHelp, mainHelp } from './help.js';
import { describeFailure } from './output.js';
import { COMMANDS } from './registry.js';
import { version } from './version.js';

export async function main(argv: readonly string[], baseIo: CommandIO): Promise<number> {
  let io = baseIo;
  const dash = argv.indexOf('--');
  const head = dash < 0 ? [...argv] : argv.slice(0, dash);
  const tail = dash < 0 ? [] : argv.slice(dash);
  const debug = head.includes('--debug');
  const verbose = debug || head.includes('--verbose');
  if (verbose) io = { ...io, verbose: (message) => io.stderr(`mproxy: ${message}\n`) };
  // --debug: every agent frame in and out, one line each.
  if (debug) enableTrace((line) => io.stderr(`mproxy: ${line}\n`));
  const args = [...head.filter((a) => a !== '--debug' && a !== '--verbose'), ...tail];
  let command: Command | undefined;
  try {
    const [name, ...rest] = args;
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      const target = topic === undefined ? undefined : findCommand(topic);
      io.stdout(target === undefined ? mainHelp(COMMANDS, version()) : commandHelp(target));
      return name === undefined ? EXIT_USAGE : 0;
    }
    if (name === '-V' || name === '--version') {
      io.stdout(`mproxy ${version()}\n`);
      return 0;
    }
    command = findCommand(name);
    if (rest.includes('-h') || rest.slice(0, rest.indexOf('--') < 0 ? undefined : rest.indexOf('--')).includes('--help')) {
      io.stdout(commandHelp(command));
      return 0;
    }
    return await command.run(parseCommandArgs(command.name, rest, command.options), io);
  } catch (err) {
    return report(err, command, debug, io);
  }
}

function findCommand(name: string): Command {
  const found = COMMANDS.find((c) => c.name === name);
  if (found !== undefined) return found;
  if (name.startsWith('-')) {
    throw new MproxyError('E_USAGE', `unknown option ${name}`, {
      hint: 'options go after the command: mproxy COMMAND [OPTIONS]; run `mproxy --help`',
    });
  }
  const guess = closest(
    name,
    COMMANDS.map((c) => c.name),
  );
  throw new MproxyError('E_USAGE', `unknown command \`${name}\``, {
    hint: guess !== undefined ? [`did you mean \`mproxy ${guess}\`?`] : [`commands: ${COMMANDS.map((c) => c.name).join(', ')}`],
  });
}

function report(err: unknown, command: Command | undefined, debug: boolean, io: CommandIO): number {
  const { status, text } = describeFailure(err, command?.failureExit ?? 1, debug);
  io.stderr(text);
  // Interrupted mid-connect: what started is undone; the abandoned attempt must not keep the
  // process alive until its own timeout.
  if (isMproxyError(err) && err.code === 'E_INTERRUPTED') setTimeout(() => process.exit(), 200).unref();
  return status;
}

// A reader that stops early (`mproxy config | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// The last resort: an error nothing caught (a bug, a library's stray throw) ends the session as
// SIGTERM does — the program told to stop, mounts unmounted, the session directory removed —
// instead of killing mproxy with everything half up.
let ending = false;
function lastResort(err: unknown): void {
  process.stderr.write(`mproxy: internal error: ${messageOf(err)}; ending the session\n`);
  if (process.argv.includes('--debug') && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
  if (ending) return;
  ending = true;
  process.exitCode = 125;
  if (process.listenerCount('SIGTERM') === 0) process.exit(125);
  process.kill(process.pid, 'SIGTERM');
}
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

const io: CommandIO = {
  cwd: process.cwd(),
  env: process.env,
  home: homedir(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mproxy: internal error: ${messageOf(err)}\n`);
    process.exitCode = 125;
  },
);

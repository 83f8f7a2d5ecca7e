/** The one place where an error becomes an exit status. */
import type { ErrorCode } from '../util/errors.js';

export const EXIT_USAGE = 2;

export function exitCodeFor(code: ErrorCode, commandFailureExit: number): number {
  switch (code) {
    case 'E_USAGE':
      return EXIT_USAGE;
    // As a shell reports a command it could not run.
    case 'E_COMMAND_NOT_FOUND':
      return 127;
    case 'E_COMMAND_NOT_EXECUTABLE':
      return 126;
    // As a shell reports Ctrl-C.
    case 'E_INTERRUPTED':
      return 130;
    default:
      return commandFailureExit;
  }
}

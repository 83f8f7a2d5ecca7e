/** The one place where an error becomes an exit status. */
import type { ErrorCode } from '../util/errors.js';

export const EXIT_USAGE = 2;

export function exitCodeFor(code: ErrorCode, commandFailureExit: number): number {
  switch (code) {
    case 'E_USAGE':
      return EXIT_USAGE;
    default:
      return commandFailureExit;
  }
}

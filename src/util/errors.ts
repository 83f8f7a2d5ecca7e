/**
 * The one error type of mproxy. Every failure a user can see is an MproxyError with a stable
 * code (the CLI maps codes to exit codes in one place: src/cli/exit-codes.ts), a sentence, and
 * a hint that says how to fix it. Causes are kept for --debug.
 */
export const ERROR_CODES = [
  'E_USAGE',
  'E_PROFILE_INVALID',
  'E_PROFILE_NOT_FOUND',
  'E_PROFILE_READ',
  'E_NOT_IMPLEMENTED',
  'E_PROTOCOL',
  'E_CONNECTION_LOST',
  'E_AGENT_START',
  'E_TIMEOUT',
  'E_EXEC',
  'E_COMMAND_NOT_FOUND',
  'E_COMMAND_NOT_EXECUTABLE',
  'E_SSH_CONNECT',
  'E_SSH_AUTH',
  'E_HOST_KEY_UNKNOWN',
  'E_HOST_KEY_CHANGED',
  'E_DOCKER',
  'E_MOUNT',
  'E_SANDBOX',
  'E_INTERRUPTED',
  'E_RECORDING',
  /** A local listener could not be opened (a port in use, an address not here). */
  'E_LISTEN',
  /** An MCP tool call refused (a path outside the mounts, a binary file read as text…): an error result, not a crash. */
  'E_TOOL',
  'E_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface MproxyErrorOptions {
  readonly hint?: string | readonly string[];
  readonly cause?: unknown;
  /** The profile key the failure is about, as a JSON pointer (/forwards/0/local): the CLI says its file and line. */
  readonly pointer?: string;
}

export class MproxyError extends Error {
  override readonly name = 'MproxyError';
  readonly code: ErrorCode;
  readonly hints: readonly string[];
  readonly pointer: string | undefined;
  /** `FILE:LINE:COL` and the key path of `pointer`, once the command that loaded the profile has looked it up. */
  location: { readonly at: string; readonly path: string } | undefined;

  constructor(code: ErrorCode, message: string, options: MproxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.pointer = options.pointer;
    const hint = options.hint;
    this.hints = hint === undefined ? [] : typeof hint === 'string' ? [hint] : [...hint];
  }
}

export function isMproxyError(value: unknown): value is MproxyError {
  return value instanceof MproxyError;
}

/** The message of anything thrown, for places that must quote a foreign error. */
export function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}

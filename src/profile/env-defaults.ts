/**
 * The environment policy's defaults, as the schema states them: what travels to remote
 * commands, and what never leaves this machine unless a profile says so.
 */

/**
 * What describes the user's terminal and preferences travels; what describes the machine (HOME,
 * USER, LOGNAME, SHELL, PATH) is the remote's own, as with `ssh host cmd`: a local HOME or PATH
 * names directories the remote does not have. Add them to `keep` to send the local values.
 */
export const DEFAULT_ENV_KEEP = ['TERM', 'COLORTERM', 'LANG', 'LANGUAGE', 'LC_*', 'TZ', 'EDITOR', 'VISUAL', 'PAGER'] as const;

/** Secrets by name (matched ignoring case): tokens, keys, passwords, credentials. */
export const SECRET_NAMES = [
  '*TOKEN',
  '*_TOKEN_*',
  '*_SECRET*',
  '*_KEY',
  '*APIKEY*',
  '*API_KEY*',
  '*PASSWORD*',
  '*PASSWD*',
  '*_PASS',
  '*_PWD',
  '*_PAT',
  '*CREDENTIAL*',
] as const;

/** What never leaves by default: the secrets, cloud and AI provider logins, and what would change how remote programs load. */
export const DEFAULT_ENV_REMOVE = [
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'SSH_AUTH_SOCK',
  ...SECRET_NAMES,
  'AWS_*',
  '/^ANTHROPIC_/',
  '/^OPENAI_/',
] as const;

/**
 * `[target].uri` to a typed target. Accepted forms:
 *   local
 *   host | user@host | user@[::1]                 (OpenSSH destination; port from ~/.ssh/config)
 *   ssh://[user@]host[:port]   ssh://[user@][v6]:port
 *   docker://NAME|ID
 *   compose://PROJECT/SERVICE[/N]   compose://./SERVICE[/N]   (project from the cwd, as compose does)
 */
export type Target =
  | { readonly kind: 'local' }
  | { readonly kind: 'ssh'; readonly user?: string; readonly host: string; readonly port?: number }
  | { readonly kind: 'docker'; readonly container: string }
  | { readonly kind: 'compose'; readonly project?: string; readonly service: string; readonly index?: number };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly hint?: string };

const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/;
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const CONTAINER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PROJECT = /^[a-z0-9][a-z0-9_-]*$/;
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const FORMS = 'local, user@host, ssh://[user@]host[:port], docker://NAME, compose://PROJECT/SERVICE[/N], compose://./SERVICE';

const fail = (reason: string, hint?: string): Parsed<never> => (hint === undefined ? { ok: false, reason } : { ok: false, reason, hint });

export function parseTargetUri(uri: string): Parsed<Target> {
  if (uri === 'local') return { ok: true, value: { kind: 'local' } };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(uri);
  if (scheme === null) return parseSshAuthority(uri, false);
  const rest = uri.slice(scheme[0].length);
  switch (scheme[1]) {
    case 'ssh':
      return parseSshAuthority(rest.replace(/\/$/, ''), true);
    case 'docker':
      if (!CONTAINER.test(rest))
        return fail(
          rest === '' ? 'no container after docker://' : `\`${rest}\` is not a container name or ID`,
          'write docker://NAME or docker://ID (letters, digits, _ . -), as `docker ps` shows it',
        );
      return { ok: true, value: { kind: 'docker', container: rest } };
    case 'compose':
      return parseCompose(rest);
    default:
      return fail(`unknown scheme \`${scheme[1]}://\``, `expected one of: ${FORMS}`);
  }
}

/** `[user@]host[:port]` (port only with ssh://, as OpenSSH destinations have none). */
export function parseSshAuthority(text: string, portAllowed: boolean): Parsed<Extract<Target, { kind: 'ssh' }>> {
  if (text === '') return fail('no host given', `expected one of: ${FORMS}`);
  let user: string | undefined;
  let hostPart = text;
  const at = text.lastIndexOf('@');
  if (at >= 0) {
    user = text.slice(0, at);
    hostPart = text.slice(at + 1);
    if (!USER.test(user)) return fail(`\`${user}\` is not a valid user name`);
  }
  let host: string;
  let portText: string | undefined;
  if (hostPart.startsWith('[')) {
    const close = hostPart.indexOf(']');
    if (close < 0) return fail('unclosed `[` around an IPv6 address', 'write ssh://user@[2001:db8::1]:22');
    host = hostPart.slice(1, close);
    if (!/^[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?$/.test(host) || !host.includes(':')) return fail(`\`${host}\` is not an IPv6 address`);
    const after = hostPart.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail(`unexpected \`${after}\` after the IPv6 address`);
    if (after !== '') portText = after.slice(1);
  } else {
    const colons = hostPart.split(':').length - 1;
    if (colons > 1) {
      // The port goes after the brackets: a last group that can be a port is offered as one.
      const last = /^(.*):(\d{1,5})$/.exec(hostPart);
      const head = last?.[1] ?? '';
      const who = user === undefined || user === '' ? '' : `${user}@`;
      const asPort =
        last !== null && Number(last[2]) <= 65535 && !head.endsWith(':') && head.split(':').length > 2
          ? `ssh://${who}[${head}]:${last[2] ?? ''} (if ${last[2] ?? ''} is the port) or `
          : '';
      return fail(`\`${hostPart}\`: an IPv6 address must be in brackets`, `write ${asPort}ssh://${who}[${hostPart}]:22`);
    }
    const colon = hostPart.indexOf(':');
    host = colon < 0 ? hostPart : hostPart.slice(0, colon);
    if (colon >= 0) portText = hostPart.slice(colon + 1);
    if (!HOSTNAME.test(host)) return fail(host === '' ? 'no host given' : `\`${host}\` is not a valid host name`);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!portAllowed) return fail(`a port in \`${text}\` needs the ssh:// form`, `write ssh://${text}`);
    if (!/^[0-9]+$/.test(portText)) return fail(`port \`${portText}\` is not a number`, 'a port is a number from 1 to 65535');
    port = Number(portText);
    if (!(port >= 1 && port <= 65535)) return fail(`port \`${portText}\` is out of range`, 'a port is a number from 1 to 65535');
  }
  return { ok: true, value: { kind: 'ssh', host, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) } };
}

function parseCompose(rest: string): Parsed<Target> {
  const parts = rest.split('/');
  const [project, service, index, ...extra] = parts;
  const usage = 'write compose://PROJECT/SERVICE, compose://PROJECT/SERVICE/N, or compose://./SERVICE';
  if (project === undefined || service === undefined || service === '' || extra.length > 0)
    return fail(`\`compose://${rest}\` is not PROJECT/SERVICE[/N]`, usage);
  if (project !== '.' && !PROJECT.test(project))
    return fail(
      `\`${project}\` is not a compose project name`,
      'project names are lowercase letters, digits, _ and -, starting with a letter or digit; or use . for the ' +
        'project of the current directory',
    );
  if (!SERVICE.test(service)) return fail(`\`${service}\` is not a compose service name`);
  let n: number | undefined;
  if (index !== undefined) {
    n = /^[0-9]+$/.test(index) ? Number(index) : NaN;
    if (!(n >= 1)) return fail(`replica \`${index}\` is not a positive number`, 'replicas are numbered from 1, as in `docker compose ps`');
  }
  return {
    ok: true,
    value: { kind: 'compose', service, ...(project !== '.' ? { project } : {}), ...(n !== undefined ? { index: n } : {}) },
  };
}

/**
 * An authenticated SSH connection (ssh2) to one destination: ~/.ssh/config applied, ProxyJump
 * hops chained through forwardOut, the host key verified against known_hosts, TCP_NODELAY on
 * (without it every exec costs ~45 ms instead of ~3), keepalives per the profile. Every
 * failure becomes a sentence with a fix.
 */
import type { Duplex } from 'node:stream';
import { Client, type SshClient } from './ssh2.js';
import { PausableDeadline } from '../../util/deadline.js';
import { MproxyError } from '../../util/errors.js';
import { parseSshAuthority } from '../../util/target-uri.js';
import { planAuth } from './auth.js';
import type { EarlyDial } from './early-dial.js';
import { fingerprint, hostPattern, keyTypeOf, recordHostKey, verifyHostKey } from './known-hosts.js';
import { forward, openTcp } from './socket.js';
import { resolveHop, type SshHostConfig } from './ssh-config.js';

export interface SshDestination {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

export interface SshOptions {
  readonly home: string;
  readonly localUser: string;
  readonly agentSocket?: string;
  readonly identityFile?: string;
  readonly jump?: string;
  readonly hostKeyPolicy: 'strict' | 'accept-new';
  readonly connectTimeoutMs: number;
  readonly keepaliveMs: number;
  /** target.op_timeout: the deadline of each script, file operation and query. */
  readonly opTimeoutMs: number;
  /** The first is where accept-new records keys. */
  readonly knownHostsFiles: readonly string[];
  readonly sshConfigFiles: readonly string[];
  readonly askPassphrase?: (keyPath: string) => Promise<string | undefined>;
  readonly verbose?: (message: string) => void;
  /** Said on stderr whatever the verbosity (as ssh says "Permanently added"): a new host key recorded. */
  readonly warn?: (message: string) => void;
}

export interface SshConnection {
  readonly client: SshClient;
  /** `user@host:port`, for messages. */
  readonly description: string;
  /** Jump connections this one runs through; closed with it. */
  readonly via: readonly SshClient[];
}

/** End a connection and the jump connections under it, innermost first. */
export function closeConnection(conn: SshConnection): void {
  conn.client.end();
  for (const c of [...conn.via].reverse()) c.end();
}

/**
 * `through`: the connection to tunnel through (a jump host); `depth` guards against ProxyJump
 * loops in ~/.ssh/config; `early`: what dialEarly resolved and opened for this destination (no jump host).
 */
export async function openSsh(
  dest: SshDestination,
  options: SshOptions,
  through?: SshConnection,
  depth = 0,
  early?: EarlyDial,
): Promise<SshConnection> {
  if (depth > 8)
    throw new MproxyError('E_SSH_CONNECT', `more than 8 jump hosts on the way to ${dest.host}`, {
      hint: 'check ProxyJump in ~/.ssh/config for a loop',
    });
  const { cfg, host, port, user } = early?.hop ?? resolveHop(dest, options);
  const description = `${user}@${host}${port === 22 ? '' : `:${port}`}`;
  const jump = through === undefined ? (options.jump ?? cfg.proxyJump) : undefined;

  let via = through;
  if (jump !== undefined) {
    // Jump hosts authenticate with their own config's keys, not the target's identity_file.
    const { identityFile: _targetKey, jump: _targetJump, ...hopOptions } = options;
    for (const hop of jump.split(',').map((h) => h.trim())) {
      const parsed = parseSshAuthority(hop.replace(/^ssh:\/\//, ''), true);
      if (!parsed.ok) throw new MproxyError('E_SSH_CONNECT', `jump host \`${hop}\`: ${parsed.reason}`);
      options.verbose?.(`ssh: jumping through ${hop}`);
      via = await openSsh(parsed.value, hopOptions, via, depth + 1);
    }
  }
  const sock =
    via === undefined
      ? await (early?.sock ?? openTcp(host, port, options.connectTimeoutMs))
      : await forward(via.client, via.description, host, port, description, options.connectTimeoutMs);
  const client = await handshake(sock, { host, port, user, description, cfg, options });
  return { client, description, via: via === undefined ? [] : [...via.via, via.client] };
}

interface HandshakeContext {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly description: string;
  readonly cfg: SshHostConfig;
  readonly options: SshOptions;
}

function handshake(sock: Duplex, ctx: HandshakeContext): Promise<SshClient> {
  const { options } = ctx;
  // connect_timeout bounds the handshake and authentication, but not a passphrase prompt: the
  // clock stops while the user types.
  let expire: () => void = () => undefined;
  const clock = new PausableDeadline(options.connectTimeoutMs, () => expire());
  const ask = options.askPassphrase;
  const askPassphrase =
    ask === undefined
      ? undefined
      : async (path: string): Promise<string | undefined> => {
          clock.pause();
          try {
            return await ask(path);
          } finally {
            clock.resume();
          }
        };
  const auth = planAuth({
    username: ctx.user,
    home: options.home,
    ...(options.identityFile !== undefined ? { identityFile: options.identityFile } : {}),
    configIdentityFiles: ctx.cfg.identityFiles,
    identitiesOnly: ctx.cfg.identitiesOnly === true,
    ...(options.agentSocket !== undefined ? { agentSocket: options.agentSocket } : {}),
    ...(askPassphrase !== undefined ? { askPassphrase } : {}),
  });
  let hostKeyError: MproxyError | undefined;
  const hostVerifier = (blob: Buffer): boolean => {
    hostKeyError = checkHostKey(blob, ctx);
    return hostKeyError === undefined;
  };
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    client.once('ready', () => {
      settled = true;
      clock.stop();
      resolve(client);
    });
    expire = () => {
      if (settled) return;
      settled = true;
      sock.destroy();
      client.end();
      reject(
        handshakeError(
          Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }),
          hostKeyError,
          auth.tried,
          ctx,
        ),
      );
    };
    // ssh2 may emit several errors (a timeout, then the lost socket), and more after 'ready'
    // when the link drops: the first before 'ready' decides; later ones surface as closed
    // channels, so they are only reported, never left to crash the process.
    client.on('error', (err: Error & { level?: string }) => {
      if (settled) {
        options.verbose?.(`ssh: ${ctx.description}: ${err.message}`);
        return;
      }
      settled = true;
      clock.stop();
      sock.destroy();
      reject(handshakeError(err, hostKeyError, auth.tried, ctx));
    });
    client.connect({
      sock,
      username: ctx.user,
      hostVerifier,
      authHandler: auth.handler,
      readyTimeout: 0, // the clock above, which a passphrase prompt pauses
      keepaliveInterval: options.keepaliveMs,
      keepaliveCountMax: 3,
    });
  });
}

function handshakeError(
  err: Error & { level?: string },
  hostKeyError: MproxyError | undefined,
  tried: readonly string[],
  ctx: HandshakeContext,
): MproxyError {
  if (hostKeyError !== undefined) return hostKeyError;
  if (err.level === 'client-authentication') {
    return new MproxyError(
      'E_SSH_AUTH',
      `${ctx.description} refused every credential offered${tried.length > 0 ? ` (tried: ${tried.join('; ')})` : ' (none found)'}`,
      {
        hint: [
          `put your public key in ~${ctx.user}/.ssh/authorized_keys on ${ctx.host}`,
          'or name the key to use in target.identity_file, or load it into ssh-agent (ssh-add)',
        ],
        cause: err,
      },
    );
  }
  if (err.level === 'client-timeout') {
    return new MproxyError(
      'E_SSH_CONNECT',
      `${ctx.description} did not complete the SSH handshake within ${ctx.options.connectTimeoutMs / 1000}s`,
      { hint: 'is an SSH server listening on that port?', cause: err },
    );
  }
  return new MproxyError('E_SSH_CONNECT', `SSH to ${ctx.description} failed: ${err.message}`, { cause: err });
}

function checkHostKey(blob: Buffer, ctx: HandshakeContext): MproxyError | undefined {
  const key = { type: keyTypeOf(blob), blob };
  const verdict = verifyHostKey(ctx.options.knownHostsFiles, ctx.host, ctx.port, key);
  const name = hostPattern(ctx.host.toLowerCase(), ctx.port);
  const fp = fingerprint(blob);
  switch (verdict.kind) {
    case 'known':
      return undefined;
    case 'changed':
      return new MproxyError(
        'E_HOST_KEY_CHANGED',
        `THE HOST KEY OF ${name} HAS CHANGED: it is now ${key.type} ${fp}, unlike the key recorded at ${verdict.file}:${verdict.line}`,
        {
          hint: [
            'someone may be intercepting the connection, or the host was reinstalled',
            `if you know it was reinstalled, remove the old key: ssh-keygen -R '${name}' -f ${verdict.file}`,
          ],
        },
      );
    case 'revoked':
      return new MproxyError(
        'E_HOST_KEY_CHANGED',
        `the host key of ${name} (${fp}) is marked @revoked at ${verdict.file}:${verdict.line}`,
        { hint: "refusing to connect; ask the host's administrator" },
      );
    case 'unknown': {
      if (ctx.options.hostKeyPolicy === 'accept-new') {
        const file = ctx.options.knownHostsFiles[0];
        if (file !== undefined) recordHostKey(file, ctx.host, ctx.port, key);
        ctx.options.warn?.(`permanently added the host key of ${name} (${key.type} ${fp}) in ${file ?? '(nowhere)'}`);
        return undefined;
      }
      return new MproxyError('E_HOST_KEY_UNKNOWN', `${name} is not a known host; its ${key.type} key is ${fp}`, {
        hint: [
          [
            "check the fingerprint with the host's administrator, then trust it with one of:",
            `  ssh-keyscan${ctx.port === 22 ? '' : ` -p ${ctx.port}`} ${ctx.host} >> ~/.ssh/known_hosts`,
            '  ssh to it once and answer yes',
            '  host_key_policy = "accept-new" in [target] (records it on first contact)',
          ].join('\n'),
          ...(verdict.otherTypes.length > 0
            ? [`known_hosts has other key types for it (${verdict.otherTypes.join(', ')}); mproxy checks the type the server offered`]
            : []),
        ],
      });
    }
  }
}

/**
 * Which credentials to offer, in OpenSSH's order: the profile's identity_file, then ssh-agent,
 * then ~/.ssh/config's IdentityFile entries, then the default keys. An encrypted key asks for
 * its passphrase on the terminal when there is one, and is skipped with a reason when not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { utils, type AnyAuthMethod, type AuthHandlerMiddleware, type ParsedKey } from './ssh2.js';
import { MproxyError } from '../../util/errors.js';

export interface AuthSettings {
  readonly username: string;
  readonly home: string;
  readonly identityFile?: string;
  readonly configIdentityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  readonly agentSocket?: string;
  /** Ask for a key's passphrase (undefined: no terminal to ask on). */
  readonly askPassphrase?: (keyPath: string) => Promise<string | undefined>;
}

export interface AuthPlan {
  readonly handler: AuthHandlerMiddleware;
  /** What was offered, for the error message when every attempt fails. */
  readonly tried: string[];
}

type Attempt = { readonly label: string; readonly method: () => Promise<AnyAuthMethod | undefined> };

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

async function loadKey(path: string, settings: AuthSettings, notes: string[]): Promise<ParsedKey | undefined> {
  const data = readFileSync(path);
  let parsed = utils.parseKey(data);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    const passphrase = await settings.askPassphrase?.(path);
    if (passphrase === undefined) {
      notes.push(`${path} is encrypted and there is no terminal to ask for its passphrase (add it to ssh-agent: ssh-add ${path})`);
      return undefined;
    }
    parsed = utils.parseKey(data, passphrase);
  }
  if (parsed instanceof Error) {
    notes.push(`${path}: ${parsed.message}`);
    return undefined;
  }
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

export function planAuth(settings: AuthSettings): AuthPlan {
  const tried: string[] = [];
  const attempts: Attempt[] = [];
  const keyAttempt = (path: string): Attempt => ({
    label: `key ${path}`,
    method: async () => {
      const key = await loadKey(path, settings, tried);
      return key === undefined ? undefined : { type: 'publickey', username: settings.username, key };
    },
  });
  if (settings.identityFile !== undefined) {
    if (!existsSync(settings.identityFile)) {
      throw new MproxyError('E_SSH_AUTH', `identity_file ${settings.identityFile} does not exist`, {
        hint: 'fix target.identity_file, or remove it to use ssh-agent and the default keys',
      });
    }
    attempts.push(keyAttempt(settings.identityFile));
  }
  const onlyIdentities = settings.identitiesOnly && (settings.identityFile !== undefined || settings.configIdentityFiles.length > 0);
  if (settings.agentSocket !== undefined && settings.agentSocket !== '' && !onlyIdentities) {
    const agent = settings.agentSocket;
    attempts.push({ label: `ssh-agent (${agent})`, method: async () => ({ type: 'agent', username: settings.username, agent }) });
  }
  const seen = new Set(settings.identityFile === undefined ? [] : [settings.identityFile]);
  const configured = settings.configIdentityFiles.filter((f) => existsSync(f));
  const defaults =
    configured.length > 0 || onlyIdentities ? [] : DEFAULT_KEYS.map((k) => join(settings.home, '.ssh', k)).filter((f) => existsSync(f));
  for (const f of [...configured, ...defaults]) {
    if (seen.has(f)) continue;
    seen.add(f);
    attempts.push(keyAttempt(f));
  }

  const handler: AuthHandlerMiddleware = (_methodsLeft, _partial, next) => {
    const step = (): void => {
      const attempt = attempts.shift();
      // ssh2 takes `false` for "nothing left to try"; its types only list methods.
      if (attempt === undefined) return (next as unknown as (m: false) => void)(false);
      attempt.method().then(
        (method) => {
          if (method === undefined) return step();
          tried.push(attempt.label);
          next(method);
        },
        (err: unknown) => {
          tried.push(`${attempt.label}: ${err instanceof Error ? err.message : String(err)}`);
          step();
        },
      );
    };
    step();
  };
  return { handler, tried };
}

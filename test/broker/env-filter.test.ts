/** The env policy with its defaults: what a remote command may see of this machine's environment. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envFilter } from '../../src/broker/env-filter.js';
import { DEFAULT_ENV_KEEP, DEFAULT_ENV_REMOVE } from '../../src/profile/env-defaults.js';

const defaults = envFilter({ keep: [...DEFAULT_ENV_KEEP, '*'], remove: [...DEFAULT_ENV_REMOVE], set: {} });

test('secrets by name stay here in any case, whatever keep says', () => {
  const secrets = [
    'GITHUB_TOKEN',
    'github_token',
    'Gh_Token',
    'HF_TOKEN',
    'NPM_TOKEN_RO',
    'GITHUB_PAT',
    'DB_PASS',
    'db_pwd',
    'MYSQL_PASSWD',
    'AZURE_CREDENTIALS',
    'google_application_credentials',
    'MY_APIKEY',
    'STRIPE_API_KEY_LIVE',
    'DEPLOY_KEY',
    'app_secret_b',
    'SMTP_PASSWORD',
    'aws_secret_access_key',
    'ANTHROPIC_API_KEY',
    'LD_PRELOAD',
  ];
  const env = Object.fromEntries(secrets.map((n) => [n, 'x']));
  assert.deepEqual(defaults(env), {});
});

test('look-alikes that are not secrets travel', () => {
  const plain = {
    PWD: '/w',
    OLDPWD: '/',
    TOKENIZERS_PARALLELISM: 'false',
    PASSENGER_ENV: 'x',
    KEYBOARD: 'us',
    TERM: 'xterm',
    LANG: 'C.UTF-8',
  };
  assert.deepEqual(defaults(plain), plain);
});

test('keep stays case-sensitive; set is added after the filter', () => {
  const f = envFilter({ keep: ['LANG'], remove: ['*_TOKEN'], set: { FORCED: '1' } });
  assert.deepEqual(f({ LANG: 'C', lang: 'x', my_token: 't' }), { LANG: 'C', FORCED: '1' });
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostMatches, resolveSshConfig } from '../../../src/transport/ssh/ssh-config.js';
import { tempTree } from '../../helpers/tmp.js';

test('Host patterns: wildcards, negation', () => {
  assert.ok(hostMatches(['build*'], 'build01'));
  assert.ok(hostMatches(['a', 'b?'], 'b1'));
  assert.ok(!hostMatches(['*', '!secret'], 'secret'));
  assert.ok(!hostMatches(['other'], 'build01'));
});

test('first value wins, IdentityFile accumulates, tokens expand, Include and Match all apply', (t) => {
  const root = tempTree(t, {
    '.ssh/config': [
      'Include conf.d/*.conf',
      'Host build*',
      '  HostName %h.example.com',
      '  Port 2222',
      '  IdentityFile ~/.ssh/build_%r',
      'Host *',
      '  User fallback',
      '  Port 22',
      '  IdentityFile %d/.ssh/common',
      '  ServerAliveInterval 30',
      'Match exec "false"',
      '  User never',
      'Match all',
      '  ConnectTimeout=7',
    ].join('\n'),
    '.ssh/conf.d/10-jump.conf': 'Host build02\n  ProxyJump ops@bastion:22\n  User builder\n',
  });
  const ctx = { home: root, localUser: 'me' };
  const cfg = resolveSshConfig('build02', [join(root, '.ssh/config')], ctx);
  assert.equal(cfg.hostName, 'build02.example.com');
  assert.equal(cfg.port, 2222);
  assert.equal(cfg.user, 'builder', 'the included file comes first');
  assert.equal(cfg.proxyJump, 'ops@bastion:22');
  assert.deepEqual(cfg.identityFiles, [join(root, '.ssh/build_builder'), join(root, '.ssh/common')]);
  assert.equal(cfg.serverAliveInterval, 30);
  assert.equal(cfg.connectTimeout, 7);
  assert.equal(resolveSshConfig('elsewhere', [join(root, '.ssh/config')], ctx).user, 'fallback');
});

/** Auto-forward's reading of /proc/net/tcp and tcp6: listeners of the remote user on the loopback or every address. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListening } from '../../src/forward/auto.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
   3: 0F02000A:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4 1 0000000000000000 100 0 0 10 0
   4: 0100007F:0BB8 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000  1000        0 5 1 0000000000000000 20 4 30 10 -1
`;
const ZERO = '0'.repeat(32);
const LOOP6 = `${'0'.repeat(24)}01000000`;
const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid',
  `   0: ${LOOP6}:2328 ${ZERO}:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 6 1`,
  `   1: ${ZERO}:0BB8 ${ZERO}:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 7 1`,
  '',
].join('\n');

test("the user's listeners on the loopback or every address, each port once", () => {
  assert.deepEqual(parseListening(TCP + TCP6, 1000), [
    { port: 3000, host: '127.0.0.1' },
    { port: 8080, host: '127.0.0.1' },
    { port: 9000, host: '::1' },
  ]);
});

test("another user's listener, one bound to a single interface, and established connections are left out", () => {
  const ports = parseListening(TCP, 1000).map((l) => l.port);
  assert.ok(!ports.includes(22), "root's sshd");
  assert.ok(!ports.includes(5000), 'bound to 10.0.2.15 only');
  assert.deepEqual(
    parseListening(TCP, undefined).map((l) => l.port),
    [3000, 8080, 22],
    'every user when the uid is not known',
  );
});

/** Forward ends as profiles write them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointText, parseEndpoint } from '../../src/util/endpoint.js';

test('a port, "host:port", "[v6]:port" and a socket path', () => {
  assert.deepEqual(parseEndpoint(8080), { ok: true, value: { host: '127.0.0.1', port: 8080 } });
  assert.deepEqual(parseEndpoint('8080'), { ok: true, value: { host: '127.0.0.1', port: 8080 } });
  assert.deepEqual(parseEndpoint('db.internal:5432'), { ok: true, value: { host: 'db.internal', port: 5432 } });
  assert.deepEqual(parseEndpoint('[::1]:3000'), { ok: true, value: { host: '::1', port: 3000 } });
  assert.deepEqual(parseEndpoint('/run/x.sock'), { ok: true, value: { path: '/run/x.sock' } });
  assert.equal(endpointText({ host: '::1', port: 3000 }), '[::1]:3000');
});

test('what is not an end says why', () => {
  for (const [v, why] of [
    [0, /not between 1 and 65535/],
    [65_536, /not between 1 and 65535/],
    ['host:70000', /port 70000 is not between/],
    ['x:y', /is not a port \(8080\), "host:port" or an absolute socket path/],
    ['relative.sock', /is not a port/],
    ['::1:80', /is not a port/],
  ] as const) {
    const r = parseEndpoint(v);
    assert.equal(r.ok, false, String(v));
    if (!r.ok) assert.match(r.reason, why);
  }
});

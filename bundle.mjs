// The CLI as npm runs it: one ESM bundle of src/cli/main.ts and its dependencies, split where
// the code imports lazily, written to dist/bundle/cli/ (bin/mproxy runs it when present).
// Node then reads a handful of files at start instead of several hundred modules, each
// resolved, read and compiled on its own; that is most of a cold `mproxy exec`'s own time.
// dist/src (tsc's output) stays what the tests import and what the bundle is checked against.
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

// Modules a dependency requires at load time for features mproxy never uses there: bundled, but
// loaded when first called. docker-modem's ssh.js pulls in all of ssh2 for `ssh://` Docker
// hosts; dockerode's util.js pulls in tar-fs for image builds; ssh2's http-agents.js loads
// node's http, https and tls (a dozen built-in modules) for HTTP over SSH; assert, dns and
// child_process (~11 ms) serve argument checks, host names and Windows agents, rarely on the
// way to the first connection.
const modem = dirname(require.resolve('docker-modem/package.json'));
const dockerode = dirname(require.resolve('dockerode/package.json'));
const ssh2 = dirname(require.resolve('ssh2/package.json'));
const asn1 = dirname(require.resolve('asn1/package.json', { paths: [ssh2] }));
/** A module that is a function with properties (assert): called or read, it loads. */
const callable = (path) =>
  `let m; const real = () => (m ??= require(${path}));\n` +
  'module.exports = new Proxy(function () {}, { apply: (_t, self, a) => real().apply(self, a), get: (_t, k) => real()[k] });';
const construct = (path, name) => `${name}: function (...a) { return new (require(${path}).${name})(...a); }`;
const LATER = [
  // ssh2's client.js resolves host names with dns.lookup; its SFTP helpers check arguments with assert.
  // Its agent.js spawns programs only for Windows agents (pageant, cygwin).
  {
    importer: `${ssh2}/lib/agent.js`,
    spec: 'child_process',
    code: (path) =>
      `module.exports = { execFile: (...a) => require(${path}).execFile(...a), spawn: (...a) => require(${path}).spawn(...a) };`,
  },
  {
    importer: `${ssh2}/lib/client.js`,
    spec: 'dns',
    code: (path) => `module.exports = { lookup: (...a) => require(${path}).lookup(...a) };`,
  },
  ...[`${ssh2}/lib/protocol/node-fs-compat.js`, `${asn1}/lib/ber/reader.js`, `${asn1}/lib/ber/writer.js`].map((importer) => ({
    importer,
    spec: 'assert',
    code: callable,
  })),
  {
    importer: `${ssh2}/lib/index.js`,
    spec: './http-agents.js',
    code: (path) => `module.exports = { ${construct(path, 'SSHTTPAgent')}, ${construct(path, 'SSHTTPSAgent')} };`,
  },
  { importer: `${modem}/lib/modem.js`, spec: './ssh', code: (path) => `module.exports = (o) => require(${path})(o);` },
  {
    importer: `${dockerode}/lib/util.js`,
    spec: 'tar-fs',
    code: (path) => `module.exports = { pack: (...a) => require(${path}).pack(...a), extract: (...a) => require(${path}).extract(...a) };`,
  },
];

const onFirstUse = {
  name: 'on-first-use',
  setup(b) {
    b.onResolve({ filter: /^(\.\/ssh|tar-fs|\.\/http-agents\.js|dns|assert|child_process)$/ }, (args) => {
      const later = LATER.find((l) => l.importer === args.importer && l.spec === args.path);
      if (later === undefined) return undefined;
      // A built-in module resolves to its own name; the importer makes each stand-in its own module.
      const real = require.resolve(args.path, { paths: [dirname(args.importer)] });
      return { path: `${real} from ${args.importer}`, namespace: 'later', pluginData: { later, real } };
    });
    b.onLoad({ filter: /.*/, namespace: 'later' }, (args) => ({
      contents: args.pluginData.later.code(JSON.stringify(args.pluginData.real)),
      loader: 'js',
      resolveDir: dirname(args.pluginData.later.importer),
    }));
  },
};

// Chunk names change with their contents: a fresh directory each time, so none is left behind.
const outdir = fileURLToPath(new URL('dist/bundle/cli/', import.meta.url));
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  chunkNames: 'chunk-[hash]',
  // CommonJS dependencies call require() and read __dirname; an ESM chunk has neither. Their
  // __dirname uses (ssh2's Windows pageant path, its poly1305 module's file locator) never
  // reach the file system here, so the chunk's own directory stands in.
  banner: {
    js: [
      "import { createRequire as __mproxyRequire } from 'node:module';",
      "import { fileURLToPath as __mproxyPath } from 'node:url';",
      'const require = __mproxyRequire(import.meta.url);',
      'const __filename = __mproxyPath(import.meta.url);',
      "const __dirname = __mproxyPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  // Optional native parts of dependencies, absent unless their install scripts ran: each is
  // required inside a try and the JS path used without it.
  external: ['cpu-features', 'cbor-extract', '*.node'],
  plugins: [onFirstUse],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: process.env.MPROXY_BUNDLE_META !== undefined,
});
// MPROXY_BUNDLE_META=FILE writes esbuild's metafile (what each chunk holds) for a size review.
if (result.metafile !== undefined) writeFileSync(process.env.MPROXY_BUNDLE_META, JSON.stringify(result.metafile));

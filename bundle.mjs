// The CLI as npm runs it: one ESM bundle of src/cli/main.ts and its dependencies, split where
// the code imports lazily, written to dist/bundle/cli/ (bin/mproxy runs it when present).
// Node then reads a handful of files at start instead of several hundred modules, each
// resolved, read and compiled on its own; that is most of a cold `mproxy exec`'s own time.
// dist/src (tsc's output) stays what the tests import and what the bundle is checked against.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

// Modules a dependency requires at load time for features mproxy never uses there: bundled, but
// loaded when first called. docker-modem's ssh.js pulls in all of ssh2 for `ssh://` Docker
// hosts; dockerode's util.js pulls in tar-fs for image builds; ssh2's http-agents.js loads
// node's http, https and tls (a dozen built-in modules) for HTTP over SSH.
const modem = dirname(require.resolve('docker-modem/package.json'));
const dockerode = dirname(require.resolve('dockerode/package.json'));
const ssh2 = dirname(require.resolve('ssh2/package.json'));
const construct = (path, name) => `${name}: function (...a) { return new (require(${path}).${name})(...a); }`;
const LATER = [
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
    b.onResolve({ filter: /^(\.\/ssh|tar-fs|\.\/http-agents\.js)$/ }, (args) => {
      const later = LATER.find((l) => l.importer === args.importer && l.spec === args.path);
      if (later === undefined || args.namespace === 'later') return undefined;
      const real = require.resolve(args.path, { paths: [dirname(args.importer)] });
      return { path: real, namespace: 'later', pluginData: later };
    });
    b.onLoad({ filter: /.*/, namespace: 'later' }, (args) => ({
      contents: args.pluginData.code(JSON.stringify(args.path)),
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

const result = await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bundle/cli',
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

// Bundles the Action (src/main.ts, src/post.ts) into dist/ with esbuild — and
// the CLI into one file, dist/cli/tuna-setup.mjs, that runs with plain `node`
// and no node_modules (self-hosted runners and GPU machines without npm). ESM
// with code splitting, so what only some runs need (@actions/cache, glob)
// is a chunk loaded on demand and the main step starts fast. The SDK is
// bundled from its TypeScript source, and loads undici only when it makes a
// request; @actions/http-client's own undici is stubbed (undici-unused.mjs). Deterministic output: CI rebuilds it
// and fails on a diff.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const REQUIRE = "import { createRequire as __tunaCreateRequire } from 'node:module'; const require = __tunaCreateRequire(import.meta.url);";
// what both bundles share: ESM for Node 20, minified with class names kept
// (@actions/cache tells its errors apart by class name: err.name === ReserveCacheError.name),
// the SDK from its source (the root is src/index.ts, a subpath such as /probe src/probe/index.ts)
const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  alias: { '@tuna-setup/sdk': './packages/sdk/src' },
  external: ['node:sqlite'],
  metafile: true,
  logLevel: 'warning',
};
const result = await build({
  ...common,
  entryPoints: { main: 'src/main.ts', post: 'src/post.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies inside an ESM bundle need require
  banner: { js: REQUIRE },
  plugins: [
    {
      name: 'http-client-without-undici',
      setup(b) {
        b.onResolve({ filter: /^undici$/ }, (args) =>
          args.importer.includes('/@actions/http-client/') ? { path: path.join(root, 'scripts/undici-unused.mjs') } : undefined,
        );
      },
    },
  ],
});
// the one-file CLI: everything inlined (no splitting)
const cli = await build({
  ...common,
  entryPoints: { 'tuna-setup': 'packages/cli/src/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  banner: { js: `#!/usr/bin/env node\n${REQUIRE}` },
});
chmodSync(path.join(root, 'dist/cli/tuna-setup.mjs'), 0o755);
const sizes = [...Object.entries(result.metafile.outputs), ...Object.entries(cli.metafile.outputs)].map(([f, o]) => `${f} ${(o.bytes / 1024).toFixed(0)} KiB`);
console.log(sizes.join('\n'));

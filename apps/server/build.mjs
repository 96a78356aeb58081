// `pnpm build`: bundles the server and the workspace packages it uses (their
// exports point at TypeScript source) into dist/main.mjs. npm dependencies
// stay external and load from node_modules at run time.
import { copyFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// `node build.mjs [outdir]`: dist/ by default; a test builds into a directory
// of its own (inside this package, so the bundle finds node_modules).
const outdir = process.argv[2] ?? new URL('./dist', import.meta.url).pathname;
const external = Object.keys(manifest.dependencies).filter((name) => !name.startsWith('@keel/'));

await build({
  entryPoints: ['src/main.ts'],
  outdir,
  outExtension: { '.js': '.mjs' },
  // Metrics and tracing are imported only when turned on; in their own
  // chunks, their packages (OpenTelemetry's alone take a few hundred
  // milliseconds) load only then.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: true,
  // The server's own npm dependencies (those of the workspace packages it
  // bundles are listed there too): the bundle never carries the dev platform.
  external,
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'info',
});

// /docs serves Redoc's standalone bundle, one static file: it ships beside
// main.mjs, so redoc (and its React tree) is a build-time dependency only.
copyFileSync(
  createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js'),
  join(outdir, 'redoc.standalone.js'),
);

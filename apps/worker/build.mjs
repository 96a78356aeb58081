// `pnpm build`: bundles the worker and the workspace packages it uses (their
// exports point at TypeScript source) into dist/main.mjs. npm dependencies
// stay external and load from node_modules at run time.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const outdir = process.argv[2] ?? new URL('./dist', import.meta.url).pathname;
const external = Object.keys(manifest.dependencies).filter((name) => !name.startsWith('@keel/'));

await build({
  entryPoints: ['src/main.ts'],
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: true,
  // The domain functions it imports from @keel/api (`@keel/api/jobs`) use
  // no tRPC; a test keeps tRPC and the dev platform out of the bundle.
  external,
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'info',
});

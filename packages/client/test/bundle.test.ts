import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

test('the built client imports no server code: no pg, kysely, express or @keel/api at run time', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'keel-client-build-'));
  const typescriptManifest = createRequire(join(packageDir, 'package.json')).resolve(
    'typescript/package.json',
  );
  const tsc = join(dirname(typescriptManifest), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: packageDir,
  });
  const files = readdirSync(outDir).filter((f) => f.endsWith('.js'));
  expect(files.length).toBeGreaterThan(0);
  const imported = files.flatMap((f) =>
    [
      ...readFileSync(join(outDir, f), 'utf8').matchAll(
        /(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g,
      ),
    ].map((m) => m[1]),
  );
  expect(imported).toContain('@trpc/client');
  const forbidden = imported.filter((name) =>
    /^(pg|kysely|express|@keel\/api|@keel\/db)(\/|$)/.test(name ?? ''),
  );
  expect(forbidden).toEqual([]);
});

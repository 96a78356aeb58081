// Why Keel exists: a schema change reaches every frontend as a type error.
// In a temporary copy of the workspace, a migration renames a column the
// storefront shows (products.description → products.summary); after codegen
// the API fails to compile at the query that selects it, and once the API
// follows the rename, the storefront fails at the component that reads it.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const workspace = join(import.meta.dirname, '..', '..', '..');
let copy: string;

/** Files a TypeScript run reported errors in, relative to the copy. */
function tsc(
  packageDir: string,
  project = 'tsconfig.json',
): { ok: boolean; files: string[]; output: string } {
  const dir = join(copy, packageDir);
  const run = spawnSync(join(dir, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', project], {
    cwd: dir,
    encoding: 'utf8',
  });
  const output = run.stdout + run.stderr;
  const files = [
    ...new Set(
      [...output.matchAll(/^(\S[^(]*)\(\d+,\d+\): error TS/gm)].map((m) =>
        relative(copy, join(dir, m[1] ?? '')),
      ),
    ),
  ].sort();
  return { ok: run.status === 0, files, output };
}

function pnpm(args: string[], cwd = copy): void {
  execFileSync('pnpm', args, {
    cwd,
    stdio: 'ignore',
    timeout: 600_000,
    env: { ...process.env, KEEL_SKIP_INSTALL: '1', CI: 'true' },
  });
}

/** Renames a whole word in files of the copy. */
function rename(files: string[], from: string, to: string): void {
  const word = new RegExp(`\\b${from}\\b`, 'g');
  for (const file of files) {
    const path = join(copy, file);
    writeFileSync(path, readFileSync(path, 'utf8').replace(word, to));
  }
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'keel-contract-'));
  const skipped = /(^|\/)(node_modules|\.git|\.data|\.turbo|dist|screenshots|coverage)$/;
  cpSync(workspace, copy, {
    recursive: true,
    filter: (source) => !skipped.test(relative(workspace, source)),
  });
  // Every package is already in the store, so the install only links them;
  // pnpm's supply-chain check may still want a package's full metadata where
  // its cache lacks it, which --prefer-offline fetches (--offline would fail).
  pnpm(['install', '--prefer-offline', '--frozen-lockfile']);
}, 600_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('a schema change reaches the storefront as type errors', () => {
  test('rename products.description: the API fails at its query, then the storefront at its component', () => {
    // Both compile before the change.
    expect(tsc('packages/api').files).toEqual([]);
    pnpm(['--filter', '@keel/client', 'build']);
    expect(tsc('apps/web').files).toEqual([]);

    // 1. The migration, its checksum, and types regenerated from a real database.
    writeFileSync(
      join(copy, 'packages/db/src/migrations/9001_rename_products_description_to_summary.ts'),
      `import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql\`alter table products rename column description to summary\`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql\`alter table products rename column summary to description\`.execute(db);
}
`,
    );
    const index = join(copy, 'packages/db/src/migrations/index.ts');
    writeFileSync(
      index,
      // The new migration goes last, after whatever the folder holds.
      readFileSync(index, 'utf8')
        .replace(
          /^(import type .*\n)/m,
          "$1import * as m9001 from './9001_rename_products_description_to_summary';\n",
        )
        .replace(/\n};\s*$/, "\n  '9001_rename_products_description_to_summary': m9001,\n};\n"),
    );
    expect(readFileSync(index, 'utf8')).toContain(
      "'9001_rename_products_description_to_summary': m9001",
    );
    pnpm(['--filter', '@keel/platform', 'db:lock-migrations']);
    pnpm(['db:codegen']);
    expect(readFileSync(join(copy, 'packages/db/src/generated/db.ts'), 'utf8')).toMatch(
      /summary: Generated<string>/,
    );

    // 2. The API no longer compiles, at the query that selects the column.
    const api = tsc('packages/api');
    expect(api.ok).toBe(false);
    expect(api.files).toContain('packages/api/src/queries/products.ts');
    expect(api.output).toMatch(/products\.description/);

    // 3. The API follows the rename: the query and the procedure's output and input.
    rename(
      [
        'packages/api/src/queries/products.ts',
        'packages/api/src/routers/products.ts',
        'packages/api/test/products.test.ts',
        // The test fixtures build products as the API returns them.
        'packages/platform/src/testing/fixtures.ts',
      ],
      'description',
      'summary',
    );
    expect(tsc('packages/api').files).toEqual([]);

    // 4. The storefront, compiled against the client package rebuilt from the
    //    new API, fails where it reads the old field.
    pnpm(['--filter', '@keel/client', 'build']);
    expect(readFileSync(join(copy, 'packages/client/dist/index.d.ts'), 'utf8')).toMatch(
      /summary: string;/,
    );
    const web = tsc('apps/web');
    expect(web.ok).toBe(false);
    expect(web.files).toContain('apps/web/src/features/catalogue/ProductPage.tsx');
    expect(web.files.every((file) => file.startsWith('apps/web/src/'))).toBe(true);
    expect(web.output).toMatch(/Property 'description' does not exist/);

    // 5. Once the storefront follows too, both compile clean.
    rename(web.files, 'description', 'summary');
    expect(tsc('apps/web').files).toEqual([]);
    expect(tsc('packages/api').files).toEqual([]);
  });
});

// The client as a frontend outside this workspace gets it: packed by pnpm,
// installed by plain npm (no workspace, no catalog) into a temporary project
// with create-vite's react-ts tsconfig, type-checked and bundled by Vite.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const packageDir = join(import.meta.dirname, '..');
const workspaceRoot = join(packageDir, '..', '..');
const fixture = join(import.meta.dirname, 'fixtures', 'create-vite-react-ts');

/** A version from the workspace catalog (pnpm-workspace.yaml), so the project matches Keel's. */
function catalogVersion(name: string): string {
  const catalog = readFileSync(join(workspaceRoot, 'pnpm-workspace.yaml'), 'utf8');
  const line = catalog
    .split('\n')
    .find((l) => l.trim().startsWith(`"${name}":`) || l.trim().startsWith(`${name}:`));
  const version = line?.split(':').slice(1).join(':').trim();
  if (!version) throw new Error(`${name} is not in the catalog`);
  return version;
}

const typeTest = `import { createKeelClient, keelErrorDetail, type RouterOutputs } from '@keel/client';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type CreatedAt = RouterOutputs['products']['list']['items'][number]['createdAt'];

export const createdAtIsDate: Equals<CreatedAt, Date> = true;
export const keel = createKeelClient({ url: '/trpc', onUnauthorized: () => undefined });

export async function wrongInput() {
  // @ts-expect-error: 'cheapest' is not one of products.list's sorts
  await keel.products.list.query({ sort: 'cheapest' });
  // @ts-expect-error: orders.place needs an idempotencyKey
  await keel.orders.place.mutate({ items: [] });
}

export function detail(error: unknown): string | undefined {
  const found = keelErrorDetail(error);
  return found?.reason === 'OUT_OF_STOCK' ? found.productId : undefined;
}
`;

/** The same file with one false claim: the type test must be able to fail. */
const falseClaim = typeTest.replace(
  'Equals<CreatedAt, Date> = true',
  'Equals<CreatedAt, string> = true',
);

const page = `import { createKeelClient } from '@keel/client';

const keel = createKeelClient({ url: '/trpc' });
const list = document.querySelector('#products');
const { items } = await keel.products.list.query({ limit: 5, sort: 'price_asc' });
for (const product of items) {
  const li = document.createElement('li');
  li.textContent = product.name + ' ' + product.createdAt.toISOString();
  list?.append(li);
}
`;

let project: string;
let tarball: string;

function run(command: string, args: string[], cwd: string) {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000 });
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'keel-frontend-'));
  // The build this package publishes, packed the way a registry would get it.
  execFileSync('pnpm', ['run', 'build'], { cwd: packageDir, stdio: 'ignore' });
  const packed = mkdtempSync(join(tmpdir(), 'keel-client-pack-'));
  execFileSync('pnpm', ['pack', '--pack-destination', packed], {
    cwd: packageDir,
    stdio: 'ignore',
  });
  const file = readdirSync(packed).find((f) => f.endsWith('.tgz'));
  if (!file) throw new Error('pnpm pack wrote no tarball');
  tarball = join(packed, file);

  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'outside-frontend',
      private: true,
      type: 'module',
      dependencies: {
        '@keel/client': `file:${tarball}`,
        '@trpc/client': catalogVersion('@trpc/client'),
        '@trpc/server': catalogVersion('@trpc/server'),
      },
      devDependencies: {
        typescript: catalogVersion('typescript'),
        vite: catalogVersion('vite'),
      },
    }),
  );
  copyFileSync(join(fixture, 'tsconfig.app.json'), join(project, 'tsconfig.app.json'));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      extends: './tsconfig.app.json',
      compilerOptions: { strict: true, exactOptionalPropertyTypes: true },
      include: ['src'],
    }),
  );
  mkdirSync(join(project, 'src'));
  writeFileSync(join(project, 'src', 'types.ts'), typeTest);
  writeFileSync(join(project, 'src', 'main.ts'), page);
  writeFileSync(
    join(project, 'index.html'),
    '<!doctype html><html><body><ul id="products"></ul><script type="module" src="/src/main.ts"></script></body></html>',
  );
  const install = run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    project,
  );
  // npm reports a registry it could not reach (a TLS proxy whose CA file
  // it was not given, say) as a conflict with a version `undefined`.
  const unreachable = /@undefined/.test(install.stderr)
    ? 'npm could not fetch from its registry (see the debug log it names); '
    : '';
  if (install.status !== 0) throw new Error(`${unreachable}npm install failed:\n${install.stderr}`);
}, 600_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('@keel/client installed from its tarball outside the workspace', () => {
  test('the packed package.json has real versions, exports with types, no side effects and tRPC as peers', () => {
    const manifest = JSON.parse(
      readFileSync(join(project, 'node_modules', '@keel', 'client', 'package.json'), 'utf8'),
    );
    expect(JSON.stringify(manifest)).not.toMatch(/catalog:|workspace:/);
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports['.'].import.types).toBe('./dist/index.d.ts');
    expect(manifest.exports['.'].require.default).toBe('./dist/index.cjs');
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['@trpc/client', '@trpc/server']);
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['superjson']);
    const files = readdirSync(join(project, 'node_modules', '@keel', 'client', 'dist'));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.cjs', 'index.d.ts']));
  });

  test('npm installed it without peer warnings: one tRPC version everywhere', () => {
    const ls = run('npm', ['ls', '--all', '--json'], project);
    expect(ls.status).toBe(0);
    const versions = new Set(
      [...ls.stdout.matchAll(/"@trpc\/(?:client|server)": \{\s*"version": "([^"]+)"/g)].map(
        (m) => m[1],
      ),
    );
    expect([...versions]).toEqual([catalogVersion('@trpc/server')]);
  });

  test("create-vite's strict tsconfig type-checks it, reading no file of Keel's server", () => {
    const tsc = run(join('node_modules', '.bin', 'tsc'), ['-p', '.', '--listFiles'], project);
    expect(tsc.stdout + tsc.stderr).not.toMatch(/error TS/);
    expect(tsc.status).toBe(0);
    const read = tsc.stdout.split('\n').filter((line) => line.trim() !== '');
    expect(read).toContain(join(project, 'node_modules/@keel/client/dist/index.d.ts'));
    const keelFiles = read.filter((file) => file.includes('@keel/'));
    expect(keelFiles).toEqual([join(project, 'node_modules/@keel/client/dist/index.d.ts')]);
    const server = read.filter((file) =>
      /\/(kysely|pg|pg-protocol|express|zod|@keel\/(api|db))\/|packages\/(api|db)\/|apps\/server\//.test(
        file,
      ),
    );
    expect(server).toEqual([]);
  });

  test('a false claim about the types fails to compile (the type test can fail)', () => {
    writeFileSync(join(project, 'src', 'types.ts'), falseClaim);
    try {
      const tsc = run(join('node_modules', '.bin', 'tsc'), ['-p', '.'], project);
      expect(tsc.status).not.toBe(0);
      expect(tsc.stdout).toMatch(/src\/types\.ts\(\d+,\d+\): error TS2322/);
    } finally {
      writeFileSync(join(project, 'src', 'types.ts'), typeTest);
    }
  });

  test('Vite bundles a page using it without pg, kysely, express, zod or server code', () => {
    const build = run(
      join('node_modules', '.bin', 'vite'),
      ['build', '--logLevel', 'error'],
      project,
    );
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const assets = join(project, 'dist', 'assets');
    const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
    const code = scripts.map((f) => readFileSync(join(assets, f), 'utf8')).join('\n');
    expect(code).toContain('products.list');
    for (const marker of [
      /kysely/i,
      /pg-protocol|node-postgres/i,
      /express/i,
      /\bzod\b|ZodError/,
      /keel_app|createDb/,
    ]) {
      expect(code).not.toMatch(marker);
    }
    const gzip = gzipSync(code).length;
    console.log(`a page with @keel/client: ${(gzip / 1024).toFixed(1)} KiB gzip`);
    expect(gzip).toBeLessThan(30 * 1024);
  });
});

// Rolling deploys: while instances are replaced one at a time, the previous
// release's server runs against the schema the new release migrated to. This
// builds the previous release (previous-release.json) from this clone's git
// history, migrates a fresh database with the NEWEST migrations, and drives
// the old server through a customer's journey with the current client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeelClient } from '@keel/client';
import { createTestDatabase, createUser } from '@keel/platform/testing';
import { afterAll, expect, test } from 'vitest';
import { startServiceProcess } from './harness';
import { previousReleaseProblem } from './previous-release';

const repositoryRoot = join(import.meta.dirname, '..', '..', '..');
const { commit } = JSON.parse(
  readFileSync(join(import.meta.dirname, 'previous-release.json'), 'utf8'),
) as { commit: string };

/**
 * The previous release's tree (git archive: no worktree to register or
 * clean up), its server's dependencies installed from the pnpm store
 * (offline: the store is warm after this clone's own install; when that
 * release used packages this one does not, they are fetched), and its bundle.
 */
function buildPreviousRelease(dir: string): { main: string; install: string } {
  execFileSync('tar', ['-x', '-C', dir], {
    input: execFileSync('git', ['archive', '--format=tar', commit], {
      cwd: repositoryRoot,
      maxBuffer: 512 * 1024 * 1024,
    }),
  });
  const install = (mode: string) =>
    execFileSync('pnpm', ['install', '--frozen-lockfile', mode, '--filter', '@keel/server...'], {
      cwd: dir,
      stdio: 'pipe',
    });
  let mode = '--offline';
  try {
    install(mode);
  } catch {
    mode = '--prefer-offline';
    install(mode);
  }
  execFileSync(process.execPath, ['build.mjs'], {
    cwd: join(dir, 'apps', 'server'),
    stdio: 'pipe',
  });
  return { main: join(dir, 'apps', 'server', 'dist', 'main.mjs'), install: mode };
}

const dir = mkdtempSync(join(tmpdir(), 'keel-previous-release-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test(`the previous release (${commit.slice(0, 7)}) serves a customer's journey against the newest schema`, async () => {
  const started = performance.now();
  const problem = previousReleaseProblem(repositoryRoot, commit);
  if (problem) throw new Error(problem);
  const previous = buildPreviousRelease(dir);
  const built = performance.now();
  // The test database is cloned from the template the global setup migrated
  // with this checkout's migrations: the newest schema.
  const testDb = await createTestDatabase();
  const service = await startServiceProcess([previous.main], {
    DATABASE_URL: testDb.urls.app,
    NODE_ENV: 'production',
  });
  try {
    const url = `${service.base}/trpc`;
    const admin = createKeelClient({
      url,
      token: (await createUser(testDb.db, { role: 'admin' })).token,
    });
    const product = await admin.products.create.mutate({
      sku: 'ROLL-1',
      name: 'Rolling deploy',
      priceCents: 1250,
      stockQuantity: 5,
    });

    const anonymous = createKeelClient({ url });
    const { token } = await anonymous.auth.register.mutate({
      email: 'rolling@example.com',
      password: 'rolling-password-1',
      displayName: 'Rolling',
    });
    const customer = createKeelClient({ url, token });
    const page = await customer.products.list.query({ limit: 10 });
    expect(page.items.map((p) => p.sku)).toContain('ROLL-1');
    expect((await customer.products.byId.query({ id: product.id })).stockQuantity).toBe(5);
    const order = await customer.orders.place.mutate({
      idempotencyKey: crypto.randomUUID(),
      items: [{ productId: product.id, quantity: 2 }],
    });
    expect(order.totalCents).toBe(2500);
    const orders = await customer.orders.list.query({ limit: 10 });
    expect(orders.items.map((o) => o.id)).toEqual([order.id]);
    expect((await customer.products.byId.query({ id: product.id })).stockQuantity).toBe(3);
  } finally {
    expect(await service.stop()).toBe(0);
    await testDb.destroy();
  }
  const newer = readdirSync(join(repositoryRoot, 'packages', 'db', 'src', 'migrations')).filter(
    (file) => !readdirSync(join(dir, 'packages', 'db', 'src', 'migrations')).includes(file),
  );
  console.log(
    `previous release ${commit.slice(0, 7)}: installed (${previous.install}) and built in ${((built - started) / 1000).toFixed(1)} s, journey in ${((performance.now() - built) / 1000).toFixed(1)} s; migrations it does not know: ${newer.join(', ') || 'none'}`,
  );
}, 120_000);

test('a clone without the previous release in its history (a shallow clone) fails with what to do, it does not skip', () => {
  const shallow = mkdtempSync(join(tmpdir(), 'keel-shallow-'));
  try {
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${repositoryRoot}`, shallow], {
      stdio: 'pipe',
    });
    expect(previousReleaseProblem(shallow, commit)).toBe(
      `the previous release ${commit} (apps/server/test/previous-release.json) is not in this clone's history: this is a shallow clone; fetch the history (git fetch --unshallow) or clone without --depth`,
    );
    expect(previousReleaseProblem(shallow, 'abc')).toMatch(/must be a full 40-hex commit id/);
    expect(previousReleaseProblem(tmpdir(), commit)).toMatch(/is not a git clone/);
  } finally {
    rmSync(shallow, { recursive: true, force: true });
  }
});

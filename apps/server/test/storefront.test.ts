// The production server serves a storefront build from the API's origin.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { startApp } from './harness';

const webRoot = mkdtempSync(join(tmpdir(), 'keel-web-dist-'));
mkdirSync(join(webRoot, 'assets'));
writeFileSync(
  join(webRoot, 'index.html'),
  '<!doctype html><title>Keel shop</title><div id="root"></div>',
);
writeFileSync(join(webRoot, 'assets', 'index-AbC123.js'), 'console.log("storefront")');

const testDb = await createTestDatabase();
const app = await startApp(testDb.db, { webRoot });
const bare = await startApp(testDb.db);
afterAll(async () => {
  await app.close();
  await bare.close();
  await testDb.destroy();
  rmSync(webRoot, { recursive: true, force: true });
});

describe('the storefront build, served by the API server', () => {
  test('hashed assets are cached for a year and immutable', async () => {
    const res = await fetch(`${app.url}/assets/index-AbC123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await res.text()).toContain('storefront');
  });

  test('a missing asset is a 404, not the page', async () => {
    const res = await fetch(`${app.url}/assets/index-gone.js`);
    expect(res.status).toBe(404);
  });

  test('every bookmarkable route answers with the page, revalidated each time', async () => {
    for (const path of [
      '/',
      '/products/0191c3a2-0000-7000-8000-000000000000',
      '/cart',
      '/admin/products',
    ]) {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      // The same security headers as the API.
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await res.text()).toContain('<div id="root">');
    }
  });

  test('the API and health checks are untouched', async () => {
    expect((await fetch(`${app.url}/healthz`)).headers.get('content-type')).toMatch(/json/);
    const list = await app.client().products.list.query({ limit: 1 });
    expect(list.items).toEqual([]);
    expect((await fetch(`${app.url}/trpc/nope`)).status).toBe(404);
  });

  test('without a build the server serves the API alone', async () => {
    expect((await fetch(`${bare.url}/cart`)).status).toBe(404);
  });
});

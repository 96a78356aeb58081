// The browser suite's world: the real production request handler serving the
// built storefront (apps/web/dist) and the API on one loopback port, over a
// test database of its own, driven by Debian's Chromium through playwright-core.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { hashPassword } from '@keel/db';
import { createTestDatabase, type TestDatabase } from '@keel/platform/testing';
import { createRequestListener } from '@keel/server/app';
import pino from 'pino';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { readWebEnvironment } from '../env';

export const webDist = join(import.meta.dirname, '..', 'dist');
export const screenshots = join(import.meta.dirname, 'screenshots');

const installHint =
  "install Debian's package (`sudo apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary";

function findChromium(): string | undefined {
  const candidates = [
    readWebEnvironment().CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
  ];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

/**
 * Chromium: CHROMIUM_PATH, else Debian's package. When it is missing and this
 * process is root (CI, a fresh container), installs the package, as the
 * PgBouncer suite does; otherwise says how to install it.
 */
export function chromiumPath(): string {
  const found = findChromium();
  if (found) return found;
  if (userInfo().uid !== 0) throw new Error(`Chromium is not installed; ${installHint}`);
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, {
      stdio: 'ignore',
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    apt(['install', '-y', '-qq', 'chromium']);
  } catch {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'chromium']);
  }
  const installed = findChromium();
  if (!installed) throw new Error(`apt-get installed no Chromium; ${installHint}`);
  return installed;
}

export const admins = [
  { email: 'admin-one@keel.test', password: 'admin-one-password', displayName: 'Admin One' },
  { email: 'admin-two@keel.test', password: 'admin-two-password', displayName: 'Admin Two' },
] as const;

export interface Shop {
  url: string;
  testDb: TestDatabase;
  browser: Browser;
  close(): Promise<void>;
}

/** 150 products: more than the first 100 a test scrolls past, with names to search. */
export const catalogueSize = 150;

export async function openShop(): Promise<Shop> {
  if (!existsSync(join(webDist, 'index.html'))) {
    throw new Error(
      'apps/web/dist is missing: the suite builds it in its global setup (test/build-storefront.ts); was that setup skipped?',
    );
  }
  mkdirSync(screenshots, { recursive: true });
  const testDb = await createTestDatabase();
  await testDb.db
    .insertInto('products')
    .values(
      Array.from({ length: catalogueSize }, (_, i) => ({
        sku: `WEB-${String(i).padStart(4, '0')}`,
        name: i % 25 === 0 ? `Brass Lamp ${i}` : `Oak Shelf ${i}`,
        description: `Product number ${i}, made for the browser suite.`,
        price_cents: 500 + i * 10,
        stock_quantity: 20,
      })),
    )
    .execute();
  for (const admin of admins) {
    await testDb.db
      .insertInto('users')
      .values({
        email: admin.email,
        display_name: admin.displayName,
        password_hash: await hashPassword(admin.password),
        role: 'admin',
      })
      .execute();
  }
  const server: Server = createServer(
    createRequestListener({
      db: testDb.db,
      logger: pino({ level: 'silent' }),
      webRoot: webDist,
      authRateLimitPerMinute: 1_000,
      readRateLimitPerMinute: 100_000,
    }),
  ).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    url,
    testDb,
    browser,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await testDb.destroy();
    },
  };
}

/** A fresh browser profile (own localStorage) at a phone or desktop size. */
export async function newPage(
  shop: Shop,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await shop.browser.newContext({ baseURL: shop.url, viewport });
  const page = await context.newPage();
  return { context, page };
}

export async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

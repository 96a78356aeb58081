// The storefront in a real browser (Debian's Chromium), against the real
// server and an embedded PostgreSQL: what a shopper and an admin do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  admins,
  logIn,
  newPage,
  openShop,
  type Shop,
  screenshot,
  seriousViolations,
  webDist,
} from './support';

let shop: Shop;
beforeAll(async () => {
  shop = await openShop();
}, 900_000);
afterAll(async () => {
  await shop?.close();
});

const cards = (page: Page) => page.locator('[data-testid="product-grid"] [data-product-id]');

async function productId(sku: string): Promise<string> {
  const row = await shop.testDb.db
    .selectFrom('products')
    .select('id')
    .where('sku', '=', sku)
    .executeTakeFirstOrThrow();
  return row.id;
}

async function stockOf(sku: string): Promise<number> {
  const row = await shop.testDb.db
    .selectFrom('products')
    .select('stock_quantity')
    .where('sku', '=', sku)
    .executeTakeFirstOrThrow();
  return row.stock_quantity;
}

let registered = 0;
/** Registers a new customer through the form and leaves them signed in. */
async function registerCustomer(page: Page): Promise<string> {
  registered += 1;
  const email = `shopper-${registered}-${Date.now()}@keel.test`;
  await page.goto('/register');
  await page.getByLabel('Your name').fill(`Shopper ${registered}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('shopper-password-123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  return email;
}

async function addToCart(page: Page, sku: string): Promise<void> {
  await page.goto(`/products/${await productId(sku)}`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByText('Added.').waitFor();
}

/** Fills the payment form with `number` (a future expiry, CVC 123) and submits it. */
async function payWith(page: Page, number: string): Promise<void> {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry month').selectOption('12');
  await page.getByLabel('Expiry year').selectOption(String(new Date().getFullYear() + 2));
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: /^Pay / }).click();
}

const orderPage = /\/orders\/[0-9a-f-]{36}$/;
const paymentPage = /\/orders\/[0-9a-f-]{36}\/pay$/;

async function orderStatus(id: string): Promise<string> {
  const row = await shop.testDb.db
    .selectFrom('orders')
    .select('status')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.status;
}

async function ordersOf(email: string): Promise<number> {
  const row = await shop.testDb.db
    .selectFrom('orders')
    .innerJoin('users', 'users.id', 'orders.user_id')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('users.email', '=', email)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

describe('the catalogue', () => {
  test('paints data, scrolls past the first 100 products without layout shift, and links every product', async () => {
    const { context, page } = await newPage(shop);
    await page.addInitScript(() => {
      const w = window as unknown as { keelShift: number };
      w.keelShift = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as (PerformanceEntry & {
          value: number;
          hadRecentInput: boolean;
        })[]) {
          if (!entry.hadRecentInput) w.keelShift += entry.value;
        }
      }).observe({ type: 'layout-shift', buffered: true });
    });
    await page.goto('/');
    const firstPaintWithData = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const check = () =>
            document.querySelector('[data-product-id]')
              ? resolve(performance.now())
              : requestAnimationFrame(check);
          check();
        }),
    );
    console.log(
      `catalogue: first paint with data ${firstPaintWithData.toFixed(0)} ms after navigation`,
    );
    expect(firstPaintWithData).toBeGreaterThan(0);
    await screenshot(page, 'catalogue');

    for (let i = 0; i < 20 && (await cards(page).count()) <= 100; i += 1) {
      const before = await cards(page).count();
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll('[data-testid="product-grid"] [data-product-id]').length > n,
        before,
        { timeout: 10_000 },
      );
    }
    // Cards and their links read at one instant (more pages may still arrive).
    const { shown, links } = await page.evaluate(() => {
      const all = [...document.querySelectorAll('[data-testid="product-grid"] [data-product-id]')];
      return {
        shown: all.length,
        links: all.map((card) => card.querySelector('a')?.getAttribute('href') ?? null),
      };
    });
    expect(shown).toBeGreaterThan(100);
    expect(links).toHaveLength(shown);
    expect(links.every((href) => /^\/products\/[0-9a-f-]{36}$/.test(href ?? ''))).toBe(true);
    const shift = await page.evaluate(() => (window as unknown as { keelShift: number }).keelShift);
    expect(shift).toBeLessThan(0.1);

    // A product link opens its page.
    await cards(page).first().locator('a').click();
    await page.getByRole('button', { name: 'Add to cart' }).waitFor();
    expect(page.url()).toMatch(/\/products\/[0-9a-f-]{36}$/);
    await context.close();
  });

  test('search, sort and price range live in the URL, so a reload shows the same view', async () => {
    const { context, page } = await newPage(shop);
    await page.goto('/');
    await cards(page).first().waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).fill('Brass');
    await expect.poll(() => page.url()).toContain('search=Brass');
    await expect.poll(() => cards(page).count()).toBe(6);
    await page.getByLabel('Sort by').selectOption('price_desc');
    await expect.poll(() => page.url()).toContain('sort=price_desc');
    await expect.poll(() => cards(page).first().locator('a').textContent()).toBe('Brass Lamp 125');
    await page.getByLabel('Max price ($)').fill('10');
    await expect.poll(() => page.url()).toContain('maxPriceCents=1000');
    await expect.poll(() => cards(page).count()).toBe(3);

    await page.reload();
    // The reloaded page first waits for its data (seconds on a busy machine;
    // expect.poll alone gives up after one).
    await cards(page).first().waitFor();
    await expect.poll(() => cards(page).count()).toBe(3);
    expect(await page.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe('Brass');
    expect(await page.getByLabel('Sort by').inputValue()).toBe('price_desc');

    await page.getByRole('searchbox', { name: 'Search' }).fill('no such product anywhere');
    await page.getByText('No products match these filters.').waitFor();
    await screenshot(page, 'catalogue-empty');
    await context.close();
  });

  test('a dead token in storage is dropped and the catalogue answers as anonymous', async () => {
    const { context, page } = await newPage(shop);
    await context.addInitScript(() => {
      if (!sessionStorage.getItem('seeded')) {
        sessionStorage.setItem('seeded', '1');
        localStorage.setItem('keel.token', 'a-token-the-server-never-issued');
      }
    });
    await page.goto('/');
    await cards(page).first().waitFor();
    expect(await page.evaluate(() => localStorage.getItem('keel.token'))).toBeNull();
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    await context.close();
  });
});

describe('a customer', () => {
  test('gets field errors from the server, registers, checks out with a double click and gets one order, pays it, then cancels it', async () => {
    const { context, page } = await newPage(shop);
    await page.goto('/register');
    await page.getByLabel('Your name').fill('Dana');
    await page.getByLabel('Email').fill('dana@keel.test');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    const passwordError = page.locator('[data-field-error="password"]');
    await passwordError.waitFor();
    expect(await passwordError.textContent()).toContain('at least 12 characters');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'register-errors');

    await page.getByLabel('Password').fill('dana-password-123');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();

    await addToCart(page, 'WEB-0003');
    await addToCart(page, 'WEB-0004');
    await page.goto('/cart');
    expect(await page.locator('tbody tr').count()).toBe(2);
    await screenshot(page, 'cart');
    await page.getByRole('link', { name: 'Check out' }).click();
    await page.getByRole('heading', { name: 'Checkout' }).waitFor();
    await screenshot(page, 'checkout');

    await page.getByRole('button', { name: 'Place order' }).dblclick();
    await page.waitForURL(paymentPage);
    const orderId = page.url().split('/').at(-2) ?? '';
    expect(await ordersOf('dana@keel.test')).toBe(1);
    expect(await stockOf('WEB-0003')).toBe(19);
    expect(await orderStatus(orderId)).toBe('pending');
    await page.getByText('Pay within 30 minutes', { exact: false }).waitFor();
    await page.getByText('4242 4242 4242 4242', { exact: false }).first().waitFor();
    await screenshot(page, 'checkout-payment');

    await payWith(page, '4242 4242 4242 4242');
    await page.waitForURL(orderPage);
    await page.getByText('Payment received.').waitFor();
    expect(await page.getByTestId('order-status').textContent()).toBe('paid');
    expect(await orderStatus(orderId)).toBe('paid');
    expect(await page.getByRole('link', { name: 'Pay', exact: true }).count()).toBe(0);
    await screenshot(page, 'order');

    await page.getByRole('link', { name: 'My orders', exact: true }).click();
    await expect.poll(() => page.locator('[data-order-id]').count()).toBe(1);
    await screenshot(page, 'orders');
    await page.locator('[data-order-id] a').first().click();
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await expect.poll(() => page.getByTestId('order-status').textContent()).toBe('cancelled');
    expect(await stockOf('WEB-0003')).toBe(20);

    // The product page shows the stock back at once.
    await page.goto(`/products/${await productId('WEB-0003')}`);
    await expect.poll(() => page.getByTestId('stock').textContent()).toBe('20 in stock');
    expect(await page.locator('.badge').textContent()).toBe('0');
    await context.close();
  });

  test('a declined card names the reason and the order stays unpaid; invalid card input is shown by field; the order page offers Pay again', async () => {
    const { context, page } = await newPage(shop);
    await registerCustomer(page);
    await addToCart(page, 'WEB-0005');
    await page.goto('/checkout');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(paymentPage);
    const orderId = page.url().split('/').at(-2) ?? '';

    // Invalid input never reaches the provider: each part is named beside its field.
    await page.getByLabel('Card number').fill('4242 4242 4242 4241');
    await page.getByLabel('CVC').fill('12');
    await page.getByRole('button', { name: /^Pay / }).click();
    const numberError = page.locator('[data-field-error="card.number"]');
    await numberError.waitFor();
    expect(await numberError.textContent()).toContain('check digit');
    expect(await page.getByLabel('Card number').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('[data-field-error="card.cvc"]').textContent()).toContain(
      '3 or 4 digits',
    );
    expect(await page.locator('[data-field-error="card.expiryMonth"]').textContent()).toContain(
      'choose the month',
    );

    await payWith(page, '4000 0000 0000 9995');
    const declined = page.getByTestId('payment-declined');
    await declined.waitFor();
    expect(await declined.textContent()).toContain('insufficient funds');
    expect(await declined.getAttribute('role')).toBe('alert');
    await screenshot(page, 'payment-declined');
    // The form stays, as typed, for another card.
    expect(await page.getByLabel('Card number').inputValue()).toBe('4000 0000 0000 9995');
    expect(await orderStatus(orderId)).toBe('pending');
    const attempts = await shop.testDb.db
      .selectFrom('payments')
      .select(['status', 'decline_reason', 'card_last4'])
      .where('order_id', '=', orderId)
      .execute();
    expect(attempts).toEqual([
      { status: 'declined', decline_reason: 'insufficient_funds', card_last4: '9995' },
    ]);

    await page.getByRole('link', { name: 'View the order' }).click();
    await page.waitForURL(orderPage);
    expect(await page.getByTestId('order-status').textContent()).toBe('pending');
    await page.getByRole('link', { name: 'Pay', exact: true }).click();
    await page.waitForURL(paymentPage);
    await payWith(page, '5555 5555 5555 4444');
    await page.waitForURL(orderPage);
    await expect.poll(() => page.getByTestId('order-status').textContent()).toBe('paid');
    expect(await orderStatus(orderId)).toBe('paid');
    await context.close();
  });

  test('an order over the stock marks the cart line and names the product', async () => {
    await shop.testDb.db
      .updateTable('products')
      .set({ stock_quantity: 1 })
      .where('sku', '=', 'WEB-0007')
      .execute();
    const { context, page } = await newPage(shop);
    const email = await registerCustomer(page);
    await addToCart(page, 'WEB-0007');
    await page.goto('/cart');
    await page.getByLabel('Quantity of Oak Shelf 7').fill('2');
    await page.getByRole('link', { name: 'Check out' }).click();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Not enough stock for Oak Shelf 7: only 1 left.').waitFor();
    expect(await ordersOf(email)).toBe(0);
    await page.getByRole('link', { name: 'Change your cart' }).click();
    const marked = page.getByTestId('shortage');
    await marked.waitFor();
    expect(await marked.textContent()).toContain('Oak Shelf 7');
    await screenshot(page, 'cart-out-of-stock');
    await context.close();
  });

  test('cannot open the admin pages, and neither can a visitor', async () => {
    const { context, page } = await newPage(shop);
    const adminCalls: string[] = [];
    page.on('request', (request) => {
      if (/includeInactive|allUsers|products\.(create|update)/.test(request.url()))
        adminCalls.push(request.url());
    });
    for (const path of ['/admin', '/admin/products', '/admin/orders']) {
      await page.goto(path);
      await page.getByRole('heading', { name: 'Admins only' }).waitFor();
    }
    await registerCustomer(page);
    await page.goto('/admin/products');
    await page.getByRole('heading', { name: 'Admins only' }).waitFor();
    expect(await page.getByRole('link', { name: 'Admin', exact: true }).count()).toBe(0);
    expect(adminCalls).toEqual([]);
    await context.close();
  });
});

describe('admins', () => {
  test('a stale edit shows the conflict and offers to reload the latest version', async () => {
    const id = await productId('WEB-0010');
    const one = await newPage(shop);
    const two = await newPage(shop);
    await logIn(one.page, admins[0].email, admins[0].password);
    await logIn(two.page, admins[1].email, admins[1].password);
    await one.page.goto(`/admin/products/${id}`);
    await two.page.goto(`/admin/products/${id}`);
    await one.page.getByLabel('Name').waitFor();
    await two.page.getByLabel('Name').waitFor();

    await one.page.getByLabel('Name').fill('Oak Shelf 10, refinished');
    await one.page.getByRole('button', { name: 'Save' }).click();
    await one.page.getByText('Saved.').waitFor();

    await two.page.getByLabel('Price (cents)').fill('999');
    await two.page.getByRole('button', { name: 'Save' }).click();
    await two.page.getByTestId('conflict').waitFor();
    await screenshot(two.page, 'admin-conflict');
    const row = await shop.testDb.db
      .selectFrom('products')
      .select(['name', 'price_cents'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'Oak Shelf 10, refinished', price_cents: 600 });

    await two.page.getByRole('button', { name: 'Reload the latest version' }).click();
    await expect
      .poll(() => two.page.getByLabel('Name').inputValue())
      .toBe('Oak Shelf 10, refinished');
    await two.page.getByLabel('Price (cents)').fill('999');
    await two.page.getByRole('button', { name: 'Save' }).click();
    await two.page.getByText('Saved.').waitFor();
    await one.context.close();
    await two.context.close();
  });

  test('create a product with field errors from the server, then move an order through its statuses', async () => {
    const { context, page } = await newPage(shop);
    await logIn(page, admins[0].email, admins[0].password);
    await page.goto('/admin/products/new');
    await page.getByLabel('SKU').fill('bad sku');
    await page.getByLabel('Name').fill('Walnut Desk');
    await page.getByLabel('Price (cents)').fill('25000');
    await page.getByRole('button', { name: 'Save' }).click();
    const skuError = page.locator('[data-field-error="sku"]');
    await skuError.waitFor();
    expect(await skuError.textContent()).toContain('3–40 characters');
    await page.getByLabel('SKU').fill('WALNUT-DESK');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/admin\/products\/[0-9a-f-]{36}$/);
    expect(await stockOf('WALNUT-DESK')).toBe(0);

    await addToCart(page, 'WEB-0020');
    await page.goto('/checkout');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(paymentPage);
    const orderId = page.url().split('/').at(-2) ?? '';
    await page.goto('/admin/orders');
    const row = page.locator(`[data-order-id="${orderId}"]`);
    await row.getByRole('button', { name: 'Mark paid' }).click();
    await row.getByRole('button', { name: 'Mark shipped' }).click();
    await row.getByRole('button', { name: 'Mark delivered' }).waitFor();
    const status = await shop.testDb.db
      .selectFrom('orders')
      .select('status')
      .where('id', '=', orderId)
      .executeTakeFirstOrThrow();
    expect(status.status).toBe('shipped');
    await context.close();
  });
});

describe('accessibility and weight', () => {
  test('axe-core finds no serious or critical violation on any page; the skip link comes first', async () => {
    const { context, page } = await newPage(shop);
    const found: Record<string, string[]> = {};
    const check = async (name: string, path: string, ready: () => Promise<unknown>) => {
      await page.goto(path);
      await ready();
      found[name] = await seriousViolations(page);
      await screenshot(page, name);
    };
    const productPath = `/products/${await productId('WEB-0030')}`;
    await check('login', '/login', () => page.getByRole('button', { name: 'Log in' }).waitFor());
    await check('register', '/register', () =>
      page.getByRole('button', { name: 'Create account' }).waitFor(),
    );
    await page.goto('/');
    await cards(page).first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');

    await logIn(page, admins[1].email, admins[1].password);
    await check('catalogue-signed-in', '/', () => cards(page).first().waitFor());
    await check('product', productPath, () =>
      page.getByRole('button', { name: 'Add to cart' }).waitFor(),
    );
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await check('cart-filled', '/cart', () =>
      page.getByRole('link', { name: 'Check out' }).waitFor(),
    );
    await check('checkout-ready', '/checkout', () =>
      page.getByRole('button', { name: 'Place order' }).waitFor(),
    );
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(paymentPage);
    const paymentPath = new URL(page.url()).pathname;
    const orderPath = paymentPath.replace(/\/pay$/, '');
    // The payment form with its field errors showing: labels, hints and errors checked at once.
    await check('payment', paymentPath, async () => {
      await page.getByRole('button', { name: /^Pay / }).click();
      await page.locator('[data-field-error="card.number"]').waitFor();
    });
    await check('order-detail', orderPath, () => page.getByTestId('order-status').waitFor());
    await check('my-orders', '/orders', () => page.locator('[data-order-id]').first().waitFor());
    await check('admin', '/admin', () => page.getByRole('link', { name: 'New product' }).waitFor());
    await check('admin-products', '/admin/products', () =>
      page.locator('tbody tr').first().waitFor(),
    );
    await check('admin-product-edit', `/admin${productPath}`, () =>
      page.getByLabel('SKU').waitFor(),
    );
    await check('admin-orders', '/admin/orders', () =>
      page.locator('[data-order-id]').first().waitFor(),
    );
    await check('not-found', '/no/such/page', () =>
      page.getByRole('heading', { name: 'Page not found' }).waitFor(),
    );
    await context.close();

    // The catalogue on a phone.
    const phone = await newPage(shop, { width: 390, height: 844 });
    await phone.page.goto('/');
    await cards(phone.page).first().waitFor();
    found['catalogue-phone'] = await seriousViolations(phone.page);
    const overflow = await phone.page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth,
    );
    expect(overflow).toBe(false);
    await screenshot(phone.page, 'catalogue-phone');
    await phone.context.close();

    expect(Object.keys(found)).toHaveLength(15);
    expect(Object.fromEntries(Object.entries(found).filter(([, v]) => v.length > 0))).toEqual({});
    // Fifteen pages, each analysed by axe: about 2 minutes on two busy cores.
  }, 300_000);

  test('the catalogue loads at most 130 KiB of JavaScript (gzip) before it renders', () => {
    const html = readFileSync(join(webDist, 'index.html'), 'utf8');
    const scripts = [
      ...html.matchAll(
        /<script[^>]+src="([^"]+)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g,
      ),
    ].map((m) => m[1] ?? m[2] ?? '');
    expect(scripts.length).toBeGreaterThan(0);
    const bytes = scripts.reduce(
      (sum, src) => sum + gzipSync(readFileSync(join(webDist, src.replace(/^\//, '')))).length,
      0,
    );
    console.log(`catalogue: initial JavaScript ${(bytes / 1024).toFixed(1)} KiB gzip`);
    expect(bytes).toBeLessThanOrEqual(130 * 1024);
    // The admin pages are a separate chunk customers never load.
    expect(html).not.toMatch(/AdminPages/);
  });
});

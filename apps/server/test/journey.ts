// The customer journey over HTTP through the real client, written once: the
// e2e suite runs it against one app, the many-instances suite through a load
// balancer in front of three server processes.
import { randomUUID } from 'node:crypto';
import type { KeelClient } from '@keel/client';
import { expect } from 'vitest';

/** Where the journey runs, and what the database holds before it. */
export interface JourneySetting {
  /** A client of the service under test, signed in when given a token. */
  client(token?: string): KeelClient;
  /** An admin's bearer token. */
  adminToken: string;
  /** The SKUs of every live product before the journey (it adds one, `E2E-NEW`). */
  catalogueSkus: string[];
}

/**
 * An admin adds a product; a customer registers, logs in, pages through
 * every product, orders, lists, cancels, and sees an order shipped. Each step
 * is checked; the database must start without `E2E-NEW` or the journey's email.
 */
export async function customerJourney({
  client,
  adminToken,
  catalogueSkus,
}: JourneySetting): Promise<void> {
  const asAdmin = client(adminToken);
  const added = await asAdmin.products.create.mutate({
    sku: 'E2E-NEW',
    name: 'Journey Widget',
    priceCents: 1250,
    stockQuantity: 3,
  });
  expect(added).toMatchObject({ sku: 'E2E-NEW', priceCents: 1250, stockQuantity: 3 });

  const anonymous = client();
  const registered = await anonymous.auth.register.mutate({
    email: 'E2E@Example.com',
    password: 'e2e-password-123',
    displayName: 'E2E',
  });
  // The address is kept as typed; signing in matches it without regard to case.
  expect(registered.user.email).toBe('E2E@Example.com');
  expect((await client(registered.token).auth.me.query()).email).toBe('E2E@Example.com');
  const { token, user } = await anonymous.auth.login.mutate({
    email: 'e2e@example.com',
    password: 'e2e-password-123',
  });
  expect(user.id).toBe(registered.user.id);
  const keel = client(token);

  const seen: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await keel.products.list.query({
      limit: 10,
      sort: 'price_asc',
      ...(cursor ? { cursor } : {}),
    });
    seen.push(...page.items.map((p) => p.sku));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const skus = [...catalogueSkus, added.sku];
  expect(seen).toHaveLength(skus.length);
  expect(new Set(seen)).toEqual(new Set(skus));

  const widget = await keel.products.bySku.query({ sku: 'E2E-NEW' });
  expect(widget.id).toBe(added.id);
  const order = await keel.orders.place.mutate({
    idempotencyKey: randomUUID(),
    items: [{ productId: widget.id, quantity: 2 }],
  });
  expect(order.status).toBe('pending');
  expect(order.placedAt).toBeInstanceOf(Date);
  expect(order.totalCents).toBe(2500);
  expect(order.items).toEqual([
    expect.objectContaining({ productId: widget.id, quantity: 2, unitPriceCents: 1250 }),
  ]);
  expect((await keel.products.byId.query({ id: widget.id })).stockQuantity).toBe(1);

  const mine = await keel.orders.list.query({ limit: 10 });
  expect(mine.items.map((o) => o.id)).toEqual([order.id]);
  const cancelled = await keel.orders.cancel.mutate({ id: order.id });
  expect(cancelled.status).toBe('cancelled');
  expect((await keel.products.byId.query({ id: widget.id })).stockQuantity).toBe(3);

  const second = await keel.orders.place.mutate({
    idempotencyKey: randomUUID(),
    items: [{ productId: widget.id, quantity: 1 }],
  });
  await asAdmin.orders.updateStatus.mutate({ id: second.id, status: 'paid' });
  await asAdmin.orders.updateStatus.mutate({ id: second.id, status: 'shipped' });
  expect((await keel.orders.byId.query({ id: second.id })).status).toBe('shipped');
  const both = await keel.orders.list.query({ limit: 10 });
  expect(both.items.map((o) => [o.id, o.status])).toEqual([
    [second.id, 'shipped'],
    [order.id, 'cancelled'],
  ]);
  expect((await keel.products.byId.query({ id: widget.id })).stockQuantity).toBe(2);
}

// `pnpm --filter @keel/client example`: against a running `pnpm dev`,
// registers a customer, pages through products, places an order and prints it.
import '@keel/runtime/require-node';
import { randomUUID } from 'node:crypto';
import { createKeelClient, keelErrorCode } from '../src/index';

const url = process.env.KEEL_URL ?? 'http://127.0.0.1:3000/trpc';

async function main(): Promise<void> {
  const anonymous = createKeelClient({ url });

  const email = `example-${Date.now()}@keel.dev`;
  const { user, token } = await anonymous.auth.register.mutate({
    email,
    password: 'example-password-123',
    displayName: 'Example Shopper',
  });
  console.log(`registered ${user.email} (${user.id})`);
  const keel = createKeelClient({ url, token });

  let cursor: string | undefined;
  const seen: { id: string; name: string; priceCents: number; stockQuantity: number }[] = [];
  for (let page = 1; page <= 3; page += 1) {
    const result = await keel.products.list.query({
      limit: 5,
      sort: 'price_asc',
      ...(cursor ? { cursor } : {}),
    });
    console.log(
      `page ${page}: ${result.items.map((p) => `${p.name} $${(p.priceCents / 100).toFixed(2)}`).join(', ')}`,
    );
    seen.push(...result.items);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }

  const inStock = seen.filter((p) => p.stockQuantity >= 1).slice(0, 2);
  try {
    const order = await keel.orders.place.mutate({
      idempotencyKey: randomUUID(),
      items: inStock.map((p) => ({ productId: p.id, quantity: 1 })),
    });
    console.log(
      `order ${order.id}: ${order.status}, total $${(order.totalCents / 100).toFixed(2)}, placed ${order.placedAt.toISOString()}`,
    );
    for (const item of order.items)
      console.log(
        `  ${item.quantity} × ${item.productName} at $${(item.unitPriceCents / 100).toFixed(2)}`,
      );
  } catch (error) {
    console.error(`could not place the order: ${keelErrorCode(error) ?? 'network error'}`);
    process.exitCode = 1;
  }
}

// The server not being there is the common first-run problem: one line that
// says what to do, not a stack trace.
await main().catch((error: unknown) => {
  const code = keelErrorCode(error);
  console.error(
    code
      ? `the example stopped: ${code}: ${error instanceof Error ? error.message : String(error)}`
      : `no Keel server answers at ${url}; start one with \`pnpm dev\` or set KEEL_URL`,
  );
  process.exitCode = 1;
});

// Catalogue reads on a real streaming replica (DATABASE_REPLICA_URL): which
// pool serves a read is shown by pausing the replica's WAL replay, so a row
// written on the primary is there for primary reads and absent on the replica.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { keelErrorCode } from '@keel/client';
import { findFreePort } from '@keel/platform';
import { makeProduct, seedUsers, startReplicatedDatabase } from '@keel/platform/testing';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { createMetrics } from '../src/metrics';
import { createLagTracker, startReplicaMonitor } from '../src/replica-monitor';
import { appDb, startApp, startServiceProcess } from './harness';

const maxLagMs = 3_000;
const replicated = await startReplicatedDatabase();
const primary = appDb(replicated.primary.appUrl);
const replica = appDb(replicated.replicaAppUrl);
const lines: { level: number; msg: string; reason?: string }[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  }),
);
const metrics = createMetrics();
const monitor = startReplicaMonitor({
  primary,
  replica,
  maxLagMs,
  intervalMs: 100,
  logger,
  metrics,
});
const app = await startApp(primary, {
  readReplica: monitor,
  readYourWritesMs: maxLagMs + 200,
  metrics,
});
const { customer, admin } = await seedUsers(primary);

afterAll(async () => {
  await app.close();
  await monitor.stop();
  await replica.destroy();
  await primary.destroy();
  await replicated.stop();
});

async function servingReplica() {
  await expect.poll(() => monitor.state.serving, { timeout: 15_000 }).toBe('replica');
}

async function transitions() {
  const metric = await metrics.registry.getSingleMetric('keel_replica_transitions_total')?.get();
  const count = (to: string) => metric?.values.find((v) => v.labels.to === to)?.value ?? 0;
  return { toReplica: count('replica'), toPrimary: count('primary') };
}

beforeEach(async () => {
  await replicated.onReplica('select pg_wal_replay_resume()');
  await replicated.caughtUp();
  await servingReplica();
});

describe('catalogue reads on the replica', () => {
  test('a product created on the primary is read from the replica once replayed; admins read the primary', async () => {
    await replicated.onReplica('select pg_wal_replay_pause()');
    const product = await makeProduct(primary);
    const anonymous = app.client();
    // Not replayed yet: the replica does not have it, so the visitor's read was served there.
    const missing = await anonymous.products.bySku.query({ sku: product.sku }).catch((e) => e);
    expect(keelErrorCode(missing)).toBe('NOT_FOUND');
    const rest = await fetch(`${app.url}/api/products/${product.id}`);
    expect(rest.status).toBe(404);
    // An admin reads the primary, which has it.
    const asAdmin = await app.client(admin.token).products.byId.query({ id: product.id });
    expect(asAdmin.sku).toBe(product.sku);

    await replicated.onReplica('select pg_wal_replay_resume()');
    await expect
      .poll(async () =>
        (await anonymous.products.list.query({ limit: 100 })).items.map((p) => p.id),
      )
      .toContain(product.id);
    expect(monitor.state.serving).toBe('replica');
  });

  test('a customer who places an order sees it at once, and reads the catalogue from the primary for a while', async () => {
    const product = await makeProduct(primary, { stockQuantity: 50 });
    await replicated.caughtUp();
    await replicated.onReplica('select pg_wal_replay_pause()');
    const shopper = app.client(customer.token);
    const before = await shopper.products.byId.query({ id: product.id });
    expect(before.stockQuantity).toBe(50);

    const order = await shopper.orders.place.mutate({
      idempotencyKey: randomUUID(),
      items: [{ productId: product.id, quantity: 3 }],
    });
    const orders = await shopper.orders.list.query({ limit: 5 });
    expect(orders.items.map((o) => o.id)).toContain(order.id);
    // The writer reads its own change (primary); a visitor still gets the replica's copy.
    expect((await shopper.products.byId.query({ id: product.id })).stockQuantity).toBe(47);
    expect((await app.client().products.byId.query({ id: product.id })).stockQuantity).toBe(50);
  });

  test('a replica whose replay falls behind for longer than REPLICA_MAX_LAG_MS is left, and used again once it catches up', async () => {
    const before = await transitions();
    await replicated.onReplica('select pg_wal_replay_pause()');
    const product = await makeProduct(primary);
    const anonymous = app.client();
    const lookup = () =>
      anonymous.products.byId.query({ id: product.id }).then(
        () => 'found',
        (e: unknown) => keelErrorCode(e),
      );
    expect(await lookup()).toBe('NOT_FOUND');
    await expect
      .poll(() => monitor.state, { timeout: maxLagMs + 3_000 })
      .toEqual({
        serving: 'primary',
        reason: 'lagging',
      });
    // Reads now go to the primary: the product is there, though the replica still has not replayed it.
    expect(await lookup()).toBe('found');

    await replicated.onReplica('select pg_wal_replay_resume()');
    await servingReplica();
    expect(await transitions()).toEqual({
      toReplica: before.toReplica + 1,
      toPrimary: before.toPrimary + 1,
    });
  });

  test('an idle primary does not look like lag', async () => {
    const lagging = lines.length;
    await new Promise((resolve) => setTimeout(resolve, maxLagMs + 1_000));
    expect(monitor.state.serving).toBe('replica');
    const lag = await metrics.registry.getSingleMetric('keel_replica_lag_seconds')?.get();
    expect(lag?.values[0]?.value).toBeLessThan(1);
    expect(lines.slice(lagging).filter((l) => l.reason === 'lagging')).toEqual([]);
  });

  test('with the replica stopped, the catalogue answers from the primary with no failed request, and comes back to the replica', async () => {
    const before = await transitions();
    const logged = lines.length;
    const anonymous = app.client();
    const product = await makeProduct(primary);
    let reading = true;
    let answered = 0;
    const failures: unknown[] = [];
    const readers = Array.from({ length: 4 }, async () => {
      // Bounded: stops when the test says so, or after 3000 reads.
      for (let i = 0; reading && i < 3_000; i += 1) {
        await Promise.all([
          anonymous.products.list.query({ limit: 5 }),
          anonymous.products.byId.query({ id: product.id }),
        ]).then(
          () => {
            answered += 1;
          },
          (error: unknown) => failures.push(error),
        );
      }
    });

    await replicated.stopReplica();
    await expect.poll(() => monitor.state).toEqual({ serving: 'primary', reason: 'unreachable' });
    const answeredWhileDown = answered;
    await expect.poll(() => answered).toBeGreaterThan(answeredWhileDown + 20);

    await replicated.startReplica();
    await servingReplica();
    reading = false;
    await Promise.all(readers);

    expect(failures).toEqual([]);
    expect(await transitions()).toEqual({
      toReplica: before.toReplica + 1,
      toPrimary: before.toPrimary + 1,
    });
    expect(
      lines
        .slice(logged)
        .filter((l) => l.msg.startsWith('catalogue reads go to'))
        .map((l) => l.msg),
    ).toEqual([
      'catalogue reads go to the primary: the replica is not fit to serve',
      'catalogue reads go to the replica',
    ]);
  });
});

describe('the lag measure', () => {
  test('counts how long the primary has been ahead, not how long it has been idle', () => {
    // A replica short of the first position ever seen is too far behind,
    // however recent that sighting: the primary may have written it long ago.
    const behind = createLagTracker();
    behind.primaryAt(100n, 0);
    expect(behind.replicaAt(50n, 10)).toBe(Number.POSITIVE_INFINITY);
    behind.primaryAt(200n, 1_000);
    expect(behind.replicaAt(150n, 1_500)).toBe(500);

    const lag = createLagTracker();
    lag.primaryAt(100n, 0);
    expect(lag.replicaAt(100n, 60_000)).toBe(0);
    // An idle primary: the same position seen again and again is no lag.
    for (let at = 0; at <= 60_000; at += 1_000) lag.primaryAt(100n, at);
    expect(lag.replicaAt(100n, 60_000)).toBe(0);
    // A gap counts from when the primary first got ahead, and only while it lasts.
    lag.primaryAt(200n, 61_000);
    lag.primaryAt(300n, 62_000);
    expect(lag.replicaAt(100n, 63_000)).toBe(2_000);
    expect(lag.replicaAt(250n, 64_000)).toBe(2_000);
    expect(lag.replicaAt(300n, 64_500)).toBe(0);
  });
});

describe('the service process with DATABASE_REPLICA_URL', () => {
  test('watches the replica, reports it in metrics, and shuts down cleanly', async () => {
    const metricsPort = await findFreePort();
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const service = await startServiceProcess(
      [tsx, join(import.meta.dirname, '..', 'src', 'main.ts')],
      {
        DATABASE_URL: replicated.primary.appUrl,
        DATABASE_REPLICA_URL: replicated.replicaAppUrl,
        REPLICA_CHECK_INTERVAL_MS: '100',
        METRICS_PORT: String(metricsPort),
      },
    );
    try {
      const scrape = () => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
      await expect.poll(scrape, { timeout: 10_000 }).toMatch(/^keel_replica_serving 1$/m);
      expect(await scrape()).toMatch(
        /^keel_db_pool_connections\{pool="replica",state="max"\} 10$/m,
      );
      const list = await fetch(`${service.base}/api/products?limit=1`);
      expect(list.status).toBe(200);
    } finally {
      await service.stop();
    }
  });

  test('a bad replica setting is refused at start, naming the variable', () => {
    const base = { DATABASE_URL: 'postgres://keel_app:pw@127.0.0.1:5432/keel' };
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env });
        return [];
      } catch (error) {
        return error instanceof ConfigError ? error.problems : [String(error)];
      }
    };
    expect(problems({ DATABASE_REPLICA_URL: 'mysql://replica/keel' })).toEqual([
      'DATABASE_REPLICA_URL: must be a postgres:// URL',
    ]);
    expect(problems({ REPLICA_MAX_LAG_MS: '1000', REPLICA_CHECK_INTERVAL_MS: '2000' })).toEqual([
      'REPLICA_CHECK_INTERVAL_MS: must not exceed REPLICA_MAX_LAG_MS: a lag is only seen at a check',
    ]);
    expect(loadConfig(base)).toMatchObject({
      REPLICA_MAX_LAG_MS: 5_000,
      REPLICA_CHECK_INTERVAL_MS: 1_000,
    });
  });
});

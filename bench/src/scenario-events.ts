// J. Order events delivered by the worker (apps/worker) to a webhook
// receiver on loopback, signing on, with one and with two worker processes:
// - throughput: a backlog of events written in one transaction, drained;
//   events delivered per second from the workers' start;
// - delay: events written one at a time at a steady pace while the workers
//   idle; the time from each write's commit to its arrival (p50, p99).
// Events are written by inserting orders (the orders trigger writes one
// `order.placed` per order), as the owner, straight into the bench database.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import type { BenchDatabase } from './bench-database';
import { repositoryRoot } from './bench-database';

export interface EventDeliveryRun {
  workers: number;
  backlog: number;
  eventsPerSecond: number;
  paced: number;
  delayP50Ms: number;
  delayP99Ms: number;
}

const secret = `whsec_${Buffer.from('keel-bench-webhook-secret').toString('base64')}`;
const workerDir = join(repositoryRoot, 'apps', 'worker');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

async function startReceiver() {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const orderId = (JSON.parse(body) as { data: { order: { id: string } } }).data.order.id;
      if (!arrivals.has(orderId)) arrivals.set(orderId, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function startWorkers(count: number, bench: BenchDatabase, url: string): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn(process.execPath, [join(workerDir, 'dist', 'main.mjs')], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: bench.appUrl,
        LOG_LEVEL: 'error',
        ORDER_WEBHOOK_URL: url,
        ORDER_WEBHOOK_SECRET: secret,
        // The bench database's seeded orders are old and pending: they must not expire here.
        PENDING_ORDER_TTL_SECONDS: String(10 * 365 * 24 * 3600),
      },
      stdio: 'ignore',
    }),
  );
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`events not delivered within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Inserts `count` orders for one user in one statement; returns their ids. */
async function writeOrders(owner: Kysely<DB>, userId: string, count: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    insert into orders (user_id, status, total_cents, currency, idempotency_key)
    select ${userId}, 'pending', 100, 'USD', gen_random_uuid() from generate_series(1, ${count})
    returning id`.execute(owner);
  return rows.map((r) => r.id);
}

/** Scenario J with 1 and 2 worker processes. */
export async function eventDelivery(
  bench: BenchDatabase,
  owner: Kysely<DB>,
  options: { backlog: number; paced: number; perSecond: number },
  log: (line: string) => void,
): Promise<EventDeliveryRun[]> {
  execFileSync(process.execPath, ['build.mjs'], { cwd: workerDir, stdio: 'ignore' });
  const user = await owner.selectFrom('users').select('id').limit(1).executeTakeFirstOrThrow();
  const runs: EventDeliveryRun[] = [];
  for (const workers of [1, 2]) {
    // Only this run's events are pending: the seeded orders' events (the
    // trigger wrote them while seeding) count as delivered.
    await sql`update keel_jobs.order_events set delivery_status = 'delivered', delivered_at = now()
      where delivery_status <> 'delivered'`.execute(owner);
    const receiver = await startReceiver();
    const backlogIds = await writeOrders(owner, user.id, options.backlog);
    const started = performance.now();
    const children = startWorkers(workers, bench, receiver.url);
    try {
      await waitUntil(() => backlogIds.every((id) => receiver.arrivals.has(id)), 300_000);
      const drained = Math.max(...backlogIds.map((id) => receiver.arrivals.get(id) ?? 0));
      const eventsPerSecond = options.backlog / ((drained - started) / 1000);

      const committed = new Map<string, number>();
      for (let i = 0; i < options.paced; i += 1) {
        const [id] = await writeOrders(owner, user.id, 1);
        if (id) committed.set(id, performance.now());
        await new Promise((r) => setTimeout(r, 1000 / options.perSecond));
      }
      await waitUntil(() => [...committed.keys()].every((id) => receiver.arrivals.has(id)), 60_000);
      const delays = [...committed]
        .map(([id, at]) => (receiver.arrivals.get(id) ?? Number.NaN) - at)
        .sort((a, b) => a - b);
      const run = {
        workers,
        backlog: options.backlog,
        eventsPerSecond,
        paced: options.paced,
        delayP50Ms: percentile(delays, 50),
        delayP99Ms: percentile(delays, 99),
      };
      log(
        `  ${workers} worker(s): ${eventsPerSecond.toFixed(0)} events/s draining ${options.backlog}; commit → delivery p50 ${run.delayP50Ms.toFixed(1)} ms, p99 ${run.delayP99Ms.toFixed(1)} ms over ${options.paced}`,
      );
      runs.push(run);
    } finally {
      await stopWorkers(children);
      await receiver.close();
      // The bench orders and their events go; the seeded data stays as it was.
      await sql`delete from orders where user_id = ${user.id} and total_cents = 100 and created_at > now() - interval '1 hour' and not exists (select from order_items i where i.order_id = orders.id)`.execute(
        owner,
      );
    }
  }
  return runs;
}

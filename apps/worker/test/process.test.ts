// The worker as operators run it: its production build (dist/main.mjs) in a
// process of its own. Killed mid-delivery it loses nothing; stopped with
// SIGTERM it finishes the job in hand and exits 0; unpaid orders expire.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createCaller, createInnerContext } from '@keel/api';
import { createTestDatabase, createUser, makeProduct } from '@keel/platform/testing';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { type Receiver, startReceiver, webhookSecret } from './receiver';

const workerDir = join(import.meta.dirname, '..');
// A build of its own (inside the package, so the bundle finds node_modules).
const out = mkdtempSync(join(workerDir, '.test-dist-'));
beforeAll(() => {
  execFileSync(process.execPath, ['build.mjs', out], { cwd: workerDir, stdio: 'ignore' });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const testDb = await createTestDatabase();
const { db } = testDb;
afterAll(() => testDb.destroy());
const customer = await createUser(db, { label: 'worker-process' });
const asCustomer = createCaller(
  createInnerContext({ db, token: customer.token, settings: { maxPendingOrders: 1_000 } }),
);

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const processes: WorkerProcess[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
  for (const r of receivers.splice(0)) await r.close();
});

function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [join(out, 'main.mjs')], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: testDb.urls.app,
      LOG_LEVEL: 'info',
      ORDER_WEBHOOK_SECRET: webhookSecret,
      ORDER_WEBHOOK_RETRY_BASE_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const started: WorkerProcess = { child, output: () => output, exited };
  processes.push(started);
  return started;
}

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function place(productId: string, quantity = 1) {
  return asCustomer.orders.place({
    idempotencyKey: randomUUID(),
    items: [{ productId, quantity }],
  });
}

test('killed with SIGKILL in the middle of a delivery and started again: the event still arrives, with the same id', async () => {
  const product = await makeProduct(db);
  // The first try hangs (the worker is mid-delivery); later ones are answered.
  const r = await receiver((_request, attempt) => (attempt === 1 ? 'hang' : 200));
  const first = startWorkerProcess({ ORDER_WEBHOOK_URL: r.url });
  const order = await place(product.id);
  await r.waitFor((x) => x.requests.some((e) => e.data.order.id === order.id), 30_000);
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const hungId = r.requests.find((e) => e.data.order.id === order.id)?.id;

  startWorkerProcess({ ORDER_WEBHOOK_URL: r.url });
  await r.waitFor((x) => x.accepted().some((e) => e.data.order.id === order.id), 30_000);
  const arrived = r.accepted().find((e) => e.data.order.id === order.id);
  expect(arrived?.id).toBe(hungId);
  expect(arrived?.headers['webhook-id']).toBe(hungId);
  expect(arrived?.verified).toBe(true);
});

test('SIGTERM finishes the delivery in hand, then exits 0', async () => {
  const product = await makeProduct(db);
  // A slow receiver: each answer comes 1.5 s after its request.
  const r = await receiver(() => ({ status: 200, afterMs: 1_500 }));
  const worker = startWorkerProcess({ ORDER_WEBHOOK_URL: r.url });
  await expect.poll(() => worker.output(), { timeout: 30_000 }).toContain('worker started');
  const order = await place(product.id);
  await r.waitFor((x) => x.requests.some((e) => e.data.order.id === order.id), 30_000);
  worker.child.kill('SIGTERM');
  const { code } = await worker.exited;
  expect(code).toBe(0);
  expect(worker.output()).toContain('worker stopped');
  expect(r.accepted().some((e) => e.data.order.id === order.id)).toBe(true);
  const row = await db
    .selectFrom('keel_jobs.order_events')
    .select(['delivery_status', 'attempt_count'])
    .where('order_id', '=', order.id)
    .executeTakeFirstOrThrow();
  expect(row).toEqual({ delivery_status: 'delivered', attempt_count: 1 });
});

test('an unpaid order older than PENDING_ORDER_TTL_SECONDS is cancelled, its stock restored, and the receiver gets order.expired', async () => {
  const product = await makeProduct(db, { stockQuantity: 10 });
  const r = await receiver();
  startWorkerProcess({ ORDER_WEBHOOK_URL: r.url, PENDING_ORDER_TTL_SECONDS: '2' });
  const order = await place(product.id, 4);
  expect((await asCustomer.products.byId({ id: product.id })).stockQuantity).toBe(6);
  await r.waitFor(
    (x) => x.accepted().some((e) => e.data.order.id === order.id && e.type === 'order.expired'),
    30_000,
  );
  expect((await asCustomer.orders.byId({ id: order.id })).status).toBe('cancelled');
  expect((await asCustomer.products.byId({ id: product.id })).stockQuantity).toBe(10);
  const types = r
    .accepted()
    .filter((e) => e.data.order.id === order.id)
    .map((e) => e.type);
  expect(types).toEqual(['order.placed', 'order.expired']);
});

test('a webhook URL without its signing secret is refused at start, naming the variable', async () => {
  const worker = startWorkerProcess({
    ORDER_WEBHOOK_URL: 'http://127.0.0.1:9/hooks',
    ORDER_WEBHOOK_SECRET: '',
  });
  const { code } = await worker.exited;
  expect(code).toBe(1);
  expect(worker.output()).toContain('ORDER_WEBHOOK_SECRET');
});

// Configuration that arrives: `pnpm dev` (keel-node with --dotenv, then
// turbo, then the dev supervisor) hands the server both a variable of the
// real environment (CORS_ORIGINS) and one from .env (MAX_BATCH_SIZE=3), runs
// the worker beside it (an abandoned order expires, its events reach a
// webhook), and Ctrl-C stops the embedded database through pg_ctl.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeelClient } from '@keel/client';
import { developmentAccounts, findFreePort } from '@keel/platform';
import { Webhook } from 'standardwebhooks';
import { afterAll, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'keel-dev-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function batchOf(n: number): string {
  const paths = Array(n).fill('health.check').join(',');
  const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { json: null }]));
  return `/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
}

/**
 * Runs a root script the way `pnpm <script>` does (keel-node with --dotenv,
 * then turbo) in its own process group, and waits until the API answers.
 */
async function startRootTask(
  task: string,
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ base: string; output: () => string; stop: () => Promise<number | null | 'timeout'> }> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'tooling', 'runtime', 'with-node.mjs'),
      '--dotenv',
      join(root, 'node_modules', '.bin', 'turbo'),
      'run',
      task,
      '--filter=@keel/server',
      '--ui=stream',
    ],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  let stopping: Promise<number | null | 'timeout'> | undefined;
  const kill = () => {
    if (child.exitCode === null) process.kill(-(child.pid ?? 0), 'SIGKILL');
  };
  try {
    const deadline = Date.now() + 200_000;
    for (;;) {
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`pnpm ${task} did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (error) {
    kill();
    throw error;
  }
  return {
    base,
    output: () => output,
    // Ctrl-C reaches the whole process group, as a terminal's would. Once.
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null) process.kill(-(child.pid ?? 0), 'SIGINT');
        const code = await Promise.race([
          exited,
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000)),
        ]);
        kill();
        return code;
      })();
      return stopping;
    },
  };
}

/**
 * The database was stopped cleanly: PostgreSQL removed its pid file (a kill
 * would leave it), and never by the signal fallback. That the stop goes
 * through pg_ctl is the platform's own test; turbo may exit before the
 * supervisor's last line ("stopped (pg_ctl)") is through.
 */
async function expectCleanStop(output: string): Promise<void> {
  const dataDir = /data in (\S+)/.exec(output)?.[1];
  expect(dataDir, output).toBeDefined();
  await expect
    .poll(() => existsSync(join(dataDir ?? '', 'postmaster.pid')), { timeout: 20_000 })
    .toBe(false);
  expect(output).not.toContain('embedded PostgreSQL stopped (signal)');
}

/** A process's parent, from /proc (Linux). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * The supervisor (the process that started PostgreSQL) runs with no process
 * between it and the task that relays signals with a SIGKILL fallback: the
 * tsx CLI kills its child when the child has not confirmed a relayed Ctrl-C
 * within 30 ms, which left PostgreSQL running (see src/dev.ts).
 */
function expectSupervisorNotUnderTsxCli(output: string): void {
  if (!existsSync('/proc')) return;
  const dataDir = /data in (\S+)/.exec(output)?.[1];
  expect(dataDir, output).toBeDefined();
  const postmaster = Number(
    readFileSync(join(dataDir ?? '', 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const supervisor = parentOf(postmaster);
  const above = readFileSync(`/proc/${parentOf(supervisor)}/cmdline`, 'utf8').replace(/\0/g, ' ');
  expect(above).not.toMatch(/tsx\/dist\/cli/);
}

function baseEnv(port: number, pgPort: number, name: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KEEL_SKIP_INSTALL: '1',
    KEEL_ENV_FILE: join(dir, 'none.env'),
    KEEL_DATA_DIR: join(dir, name),
    KEEL_PG_PORT: String(pgPort),
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  for (const name of [
    'DATABASE_URL',
    'MAX_BATCH_SIZE',
    'CORS_ORIGINS',
    'METRICS_PORT',
    'NODE_ENV',
    'ORDER_WEBHOOK_URL',
    'PENDING_ORDER_TTL_SECONDS',
  ])
    delete env[name];
  return env;
}

const webhookSecret = `whsec_${Buffer.from('keel-dev-config-secret').toString('base64')}`;

/** A webhook receiver on loopback: every event it got, and whether its signature verified. */
async function startReceiver() {
  const verifier = new Webhook(webhookSecret);
  const events: { type: string; orderId: string; verified: boolean }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      let verified = true;
      try {
        verifier.verify(body, req.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      const event = JSON.parse(body) as { type: string; data: { order: { id: string } } };
      events.push({ type: event.type, orderId: event.data.order.id, verified });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    events,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('pnpm dev: CORS_ORIGINS and METRICS_PORT from the environment and MAX_BATCH_SIZE from .env all reach the server; the worker expires an abandoned order and its events reach the webhook', async () => {
  const envFile = join(dir, '.env');
  writeFileSync(envFile, 'MAX_BATCH_SIZE=3\nCORS_ORIGINS=https://from-the-file.example\n');
  const port = await findFreePort();
  const metricsPort = await findFreePort();
  const receiver = await startReceiver();
  afterAll(() => receiver.close());
  const env = {
    ...baseEnv(port, await findFreePort(), 'pg'),
    KEEL_ENV_FILE: envFile,
    CORS_ORIGINS: 'https://shop.example',
    METRICS_PORT: String(metricsPort),
    PENDING_ORDER_TTL_SECONDS: '5',
    ORDER_WEBHOOK_URL: receiver.url,
    ORDER_WEBHOOK_SECRET: webhookSecret,
  };
  // What `pnpm dev` runs, for the server alone (the storefront's Vite is not needed here).
  const dev = await startRootTask('dev', env, port);
  const base = dev.base;
  try {
    // Only MAX_BATCH_SIZE came from the file; CORS_ORIGINS was already in the environment.
    expect(dev.output()).toContain(`keel: from ${envFile}: MAX_BATCH_SIZE\n`);

    // .env's MAX_BATCH_SIZE=3: three calls in one request are fine, four are refused.
    expect((await fetch(`${base}${batchOf(3)}`)).status).toBe(200);
    const four = await fetch(`${base}${batchOf(4)}`);
    expect(four.status).not.toBe(200);
    expect(await four.text()).toMatch(/batch/i);

    // The real environment's CORS_ORIGINS won over the file's.
    const preflight = (origin: string) =>
      fetch(`${base}/trpc/health.check`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const fromFile = await preflight('https://from-the-file.example');
    expect(fromFile.headers.get('access-control-allow-origin')).toBeNull();

    // METRICS_PORT: metrics labelled per procedure on that port, and only there.
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(scrape).toMatch(
      /^keel_procedure_duration_seconds_count\{procedure="health.check",type="query",code="OK"\} [1-9]/m,
    );
    expect((await fetch(`${base}/metrics`)).status).toBe(404);

    // PENDING_ORDER_TTL_SECONDS=5: an order placed and left alone is
    // cancelled within seconds, its stock is back, and the receiver gets
    // its order.placed and order.expired, each signature verifying.
    const account = developmentAccounts.find((a) => a.role === 'customer');
    const anonymous = createKeelClient({ url: `${base}/trpc` });
    const { token } = await anonymous.auth.login.mutate({
      email: account?.email ?? '',
      password: account?.password ?? '',
    });
    const client = createKeelClient({ url: `${base}/trpc`, token });
    const [product] = (await client.products.list.query({ limit: 1 })).items;
    const stock = product?.stockQuantity ?? 0;
    const order = await client.orders.place.mutate({
      idempotencyKey: randomUUID(),
      items: [{ productId: product?.id ?? '', quantity: 1 }],
    });
    expect((await client.products.byId.query({ id: product?.id ?? '' })).stockQuantity).toBe(
      stock - 1,
    );
    await expect
      .poll(async () => (await client.orders.byId.query({ id: order.id })).status, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe('cancelled');
    expect((await client.products.byId.query({ id: product?.id ?? '' })).stockQuantity).toBe(stock);
    await expect
      .poll(() => receiver.events.filter((e) => e.orderId === order.id).map((e) => e.type), {
        timeout: 20_000,
      })
      .toEqual(['order.placed', 'order.expired']);
    expect(receiver.events.filter((e) => e.orderId === order.id).every((e) => e.verified)).toBe(
      true,
    );

    expectSupervisorNotUnderTsxCli(dev.output());
    expect(await dev.stop()).not.toBe('timeout');
    await expectCleanStop(dev.output());
  } finally {
    await dev.stop();
  }
}, 240_000);

test('pnpm start:local: the production build on the embedded database, storefront and API on one origin', async () => {
  const port = await findFreePort();
  const local = await startRootTask(
    'start:local',
    baseEnv(port, await findFreePort(), 'pg-local'),
    port,
  );
  try {
    const page = await fetch(`${local.base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root">/);
    const list = await fetch(
      `${local.base}/trpc/products.list?input=${encodeURIComponent(JSON.stringify({ json: { limit: 2 } }))}`,
    );
    expect(list.status).toBe(200);
    expect(
      ((await list.json()) as { result: { data: { json: { items: unknown[] } } } }).result.data.json
        .items,
    ).toHaveLength(2);
    expect(local.output()).toContain('(the production build, served by the API)');
    // The worker's production build runs beside it (it warns that no webhook is set).
    await expect
      .poll(() => local.output(), { timeout: 20_000 })
      .toContain('order events wait in the outbox, undelivered');
    expect(await local.stop()).not.toBe('timeout');
    await expectCleanStop(local.output());
  } finally {
    await local.stop();
  }
}, 300_000);

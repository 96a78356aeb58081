import { appRouter, createInnerContext } from '@keel/api';
import type { DB } from '@keel/db';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type Express } from 'express';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';

/** What the app needs from the outside; tests pass their own. */
export interface AppDeps {
  db: Kysely<DB>;
  logger: Logger;
  /** How long `/readyz` waits for the database. */
  readinessTimeoutMs?: number;
}

/**
 * Builds the Express app: tRPC at `/trpc`, `/healthz` and `/readyz`.
 * Separate from `main.ts` so tests start the real app on an ephemeral port.
 *
 * @example
 * ```ts
 * const server = createApp({ db, logger }).listen(0, '127.0.0.1');
 * ```
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const ready = await databaseAnswers(deps.db, deps.readinessTimeoutMs ?? 1_000);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'database unavailable' });
  });

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: () => createInnerContext({ db: deps.db }),
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          deps.logger.error({ err: error, path }, 'procedure failed');
      },
    }),
  );
  return app;
}

async function databaseAnswers(db: Kysely<DB>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([sql`select 1`.execute(db).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

// REST routes under /api: each calls its tRPC procedure through tRPC's public
// `callTRPCProcedure`, with the context the /trpc routes get, so auth, rate
// limits, validation and errors are the procedures' own. The only work here
// is moving the input out of the URL and body and the answer into plain JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRouter, Context } from '@keel/api';
import {
  type AnyTRPCProcedure,
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
} from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import express, {
  type ErrorRequestHandler,
  type Request,
  type Response,
  type Router,
} from 'express';
import { z } from 'zod';
import { type RestOperation, restOperations } from './operations';
import type { ErrorCode } from './schemas';

export interface RestRouteOptions {
  router: AppRouter;
  createContext: (req: IncomingMessage, res: ServerResponse) => Context;
  onError: (error: TRPCError, path: string, res: ServerResponse) => void;
  bodyLimitBytes: number;
}

/** A procedure of the router by its path, e.g. `orders.place`. */
export function procedureAt(router: AppRouter, path: string): AnyTRPCProcedure {
  // At run time the router keeps its procedures flat, by dotted path.
  const procedures = router._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
  const procedure = procedures[path];
  if (!procedure) throw new Error(`no procedure ${path}`);
  return procedure;
}

/** The procedure's zod input schema, or null when it takes no input. */
export function inputSchemaOf(router: AppRouter, path: string): z.ZodType | null {
  const [input, ...more] = procedureAt(router, path)._def.inputs;
  if (!input) return null;
  if (more.length > 0 || !(input instanceof z.ZodType)) {
    throw new Error(`${path}: the REST mapping reads one zod input schema`);
  }
  return input;
}

type QueryType = 'integer' | 'number' | 'boolean' | 'string';

/** The JSON type of each top-level input field, from the procedure's own schema. */
function fieldTypes(schema: z.ZodType | null): Record<string, QueryType> {
  if (!schema) return {};
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string }>;
  };
  return Object.fromEntries(
    Object.entries(json.properties ?? {}).map(([name, field]) => [
      name,
      (['integer', 'number', 'boolean'].includes(field.type ?? '')
        ? field.type
        : 'string') as QueryType,
    ]),
  );
}

/**
 * A query parameter is text; the procedure wants a number or a boolean
 * where its schema says so. Anything that does not read as one is passed on
 * unchanged, so the procedure's validation names the field.
 */
function coerce(value: unknown, type: QueryType | undefined): unknown {
  if (typeof value !== 'string') return value;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) {
    return Number(value);
  }
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** `{ error: { code, message, fieldErrors?, detail? } }` with the code's HTTP status. */
function sendError(
  res: Response,
  status: number,
  error: { code: ErrorCode | TRPCError['code']; message: string; [more: string]: unknown },
): void {
  // An HTTP 401 names the scheme that would be accepted.
  if (status === 401) res.setHeader('www-authenticate', 'Bearer');
  res.status(status).json({ error });
}

/**
 * The /api routes. Mounted as Express routes after /trpc: a tRPC request
 * never reaches them, and they hold no per-request state of their own.
 */
export function restRoutes(options: RestRouteOptions): Router {
  const config = options.router._def._config;
  const api = express.Router();
  api.use(express.json({ limit: options.bodyLimitBytes }));

  for (const operation of restOperations) {
    const procedure = procedureAt(options.router, operation.procedure);
    const type = procedure._def.type;
    let types: Record<string, QueryType> | undefined;
    const inputOf = (req: Request): unknown => {
      const fromPath = req.params as Record<string, string>;
      if (operation.method === 'get') {
        types ??= fieldTypes(inputSchemaOf(options.router, operation.procedure));
        const query = Object.entries(req.query as Record<string, unknown>);
        // fromEntries defines each name as a plain field, `__proto__` included.
        const input = Object.fromEntries(
          query.map(([name, value]) => [name, coerce(value, types?.[name])]),
        );
        return { ...input, ...fromPath };
      }
      const body: unknown = req.body;
      // Not an object: the procedure's validation refuses it and says so.
      if (
        body !== undefined &&
        (body === null || typeof body !== 'object' || Array.isArray(body))
      ) {
        return body;
      }
      return { ...(body as object | undefined), ...fromPath };
    };

    api[operation.method](expressPath(operation), async (req, res) => {
      const ctx = options.createContext(req, res);
      const input = inputOf(req);
      try {
        const data = await callTRPCProcedure({
          router: options.router,
          path: operation.procedure,
          getRawInput: async () => input,
          ctx,
          type,
          signal: undefined,
          batchIndex: 0,
        });
        res.status(operation.status).json(data);
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        options.onError(error, operation.procedure, res);
        const shape = getTRPCErrorShape({
          config,
          error,
          type,
          path: operation.procedure,
          input,
          ctx,
        });
        const fieldErrors = shape.data.zodError?.fieldErrors;
        sendError(res, getHTTPStatusCodeFromError(error), {
          code: error.code,
          message: shape.message,
          ...(fieldErrors && Object.keys(fieldErrors).length > 0 ? { fieldErrors } : {}),
          ...(shape.data.detail ? { detail: shape.data.detail } : {}),
        });
      }
    });
  }

  api.use((req, res) => {
    sendError(res, 404, {
      code: 'NOT_FOUND',
      message: `no route ${req.method} ${req.originalUrl}`,
    });
  });
  const bodyErrors: ErrorRequestHandler = (
    err: { status?: number; type?: string },
    _req,
    res,
    next,
  ) => {
    if (err.status === 413) {
      const limit = options.bodyLimitBytes;
      sendError(res, 413, {
        code: 'PAYLOAD_TOO_LARGE',
        message: `the body is larger than ${limit} bytes`,
      });
    } else if (err.type === 'entity.parse.failed') {
      sendError(res, 400, { code: 'BAD_REQUEST', message: 'the body is not valid JSON' });
    } else if (err.status !== undefined && err.status >= 400 && err.status < 500) {
      sendError(res, 400, { code: 'BAD_REQUEST', message: 'the body cannot be read as JSON' });
    } else {
      next(err);
    }
  };
  api.use(bodyErrors);

  const routes = express.Router();
  routes.use('/api', api);
  return routes;
}

/** `/api/orders/{id}/cancel` → `/orders/:id/cancel`, relative to the /api mount. */
function expressPath(operation: RestOperation): string {
  return operation.path.replace(/^\/api/, '').replace(/\{(\w+)\}/g, ':$1');
}

/** The HTTP status tRPC gives a code; the document and the routes both use it. */
export function statusOf(code: ErrorCode): number {
  return getHTTPStatusCodeFromError(new TRPCError({ code }));
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRouter, Context } from '@keel/api';
import {
  callTRPCProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  type TRPCError,
  transformTRPCResponse,
} from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import type { TRPCResponse } from '@trpc/server/rpc';

/** A batched read the lane will serve: the procedure paths and their inputs. */
export interface LaneCall {
  paths: string[];
  inputs: unknown[];
}

/** What the lane needs: the router, the context factory, the error hook and the batch cap. */
export interface QueryLaneOptions {
  router: AppRouter;
  /** The URL prefix tRPC is served under, e.g. `/trpc`. */
  prefix: string;
  createContext: (req: IncomingMessage, res: ServerResponse) => Context;
  onError: (error: TRPCError, path: string, res: ServerResponse) => void;
  maxBatchSize: number;
}

/**
 * Serves batched GET queries (what `httpBatchLink` sends for reads) straight
 * from Node's request, without tRPC's fetch-API adapter round trip (Node
 * request → `Request` → `Response` → many small writes) or Express's
 * router, which profiling put at a third of a products.list request. It
 * calls the same procedures with the same middlewares and builds the
 * response with tRPC's own error shape, status and transformer, so the bytes
 * on the wire are the same (a test compares both paths). `match` accepts
 * only what it can serve exactly; everything else — mutations, streams,
 * unknown procedures, malformed input, oversized batches — is left to tRPC.
 */
export function createQueryLane(options: QueryLaneOptions) {
  const config = options.router._def._config;
  const procedures = options.router._def.procedures as unknown as Record<
    string,
    { _def: { type: string } } | undefined
  >;
  const prefix = `${options.prefix}/`;

  function match(req: IncomingMessage): LaneCall | null {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith(prefix)) return null;
    const search = url.indexOf('?');
    if (search === -1) return null;
    const params = new URLSearchParams(url.slice(search + 1));
    if (params.get('batch') !== '1') return null;
    const accept = req.headers['trpc-accept'] ?? req.headers.accept ?? '';
    if (String(accept).includes('application/jsonl')) return null;
    try {
      const paths = decodeURIComponent(url.slice(prefix.length, search)).split(',');
      if (paths.length > options.maxBatchSize) return null;
      if (!paths.every((path) => procedures[path]?._def.type === 'query')) return null;
      const raw = JSON.parse(params.get('input') ?? '{}') as unknown;
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
      const inputs = paths.map((_, i) => {
        const value = (raw as Record<string, unknown>)[i];
        return value === undefined ? undefined : config.transformer.input.deserialize(value);
      });
      return { paths, inputs };
    } catch {
      return null;
    }
  }

  async function serve(call: LaneCall, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = options.createContext(req, res);
    const json: TRPCResponse[] = await Promise.all(
      call.paths.map(async (path, i) => {
        try {
          const data = await callTRPCProcedure({
            router: options.router,
            path,
            getRawInput: async () => call.inputs[i],
            ctx,
            type: 'query',
            signal: undefined,
            batchIndex: i,
          });
          return { result: { data } };
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          options.onError(error, path, res);
          return {
            error: getErrorShape({
              config,
              error,
              type: 'query',
              path,
              input: call.inputs[i],
              ctx,
            }),
          };
        }
      }),
    );
    const body = JSON.stringify(transformTRPCResponse(config, json));
    res.statusCode = getHTTPStatusCode(json);
    res.setHeader('content-type', 'application/json');
    res.setHeader('vary', 'trpc-accept, accept');
    res.end(body);
  }

  return { match, serve };
}

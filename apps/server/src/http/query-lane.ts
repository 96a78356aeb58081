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

/**
 * A batch the lane will serve: the procedure paths, and their inputs (a
 * query's from the URL; a mutation's from the body, read in `serve`).
 */
export type LaneCall =
  | { type: 'query'; paths: string[]; inputs: unknown[] }
  | { type: 'mutation'; paths: string[] };

/** What the lane needs: the router, the context factory, the error hook and the caps. */
export interface QueryLaneOptions {
  router: AppRouter;
  /** The URL prefix tRPC is served under, e.g. `/trpc`. */
  prefix: string;
  createContext: (req: IncomingMessage, res: ServerResponse) => Context;
  onError: (error: TRPCError, path: string, res: ServerResponse) => void;
  maxBatchSize: number;
  /** The body cap tRPC's adapter applies (`maxBodySize`): larger mutations are left to it. */
  maxBodySize: number;
  /**
   * Where a mutation goes whose body turns out not to be servable exactly
   * (malformed JSON, a non-object batch, an input the transformer refuses):
   * tRPC behind Express, with the body already read assigned to `req.body`,
   * as tRPC's Node adapter takes it from a body parser.
   */
  fallback: (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => void;
}

/**
 * Serves batched calls (what `httpBatchLink` sends: queries as GET, mutations
 * as POST with a JSON body) straight from Node's request, without tRPC's
 * fetch-API adapter round trip (Node request → `Request` → `Response` → many
 * small writes) or Express's router, which profiling put at a third of a
 * products.list request. It calls the same procedures with the same
 * middlewares and builds the response with tRPC's own error shape, status
 * and transformer, so the bytes on the wire are the same (a test compares
 * both paths). `match` accepts only what it can serve exactly; everything
 * else — streams, unknown procedures, mixed batches, malformed input,
 * oversized batches or bodies, bodies without a length — is left to tRPC.
 */
export function createQueryLane(options: QueryLaneOptions) {
  const config = options.router._def._config;
  const procedures = options.router._def.procedures as unknown as Record<
    string,
    { _def: { type: string } } | undefined
  >;
  const prefix = `${options.prefix}/`;

  /** The batch's paths when every one is a procedure of `type`, else null. */
  function batchPaths(url: string, search: number, type: string): string[] | null {
    const paths = decodeURIComponent(url.slice(prefix.length, search)).split(',');
    if (paths.length > options.maxBatchSize) return null;
    return paths.every((path) => procedures[path]?._def.type === type) ? paths : null;
  }

  /** Each call's input, deserialized, from a batch's input object; throws where tRPC would refuse. */
  function batchInputs(paths: string[], raw: unknown): unknown[] {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new Error('not a batch');
    return paths.map((_, i) => {
      const value = (raw as Record<string, unknown>)[i];
      return value === undefined ? undefined : config.transformer.input.deserialize(value);
    });
  }

  function match(req: IncomingMessage): LaneCall | null {
    const url = req.url ?? '';
    if ((req.method !== 'GET' && req.method !== 'POST') || !url.startsWith(prefix)) return null;
    const search = url.indexOf('?');
    if (search === -1) return null;
    const params = new URLSearchParams(url.slice(search + 1));
    if (params.get('batch') !== '1') return null;
    const accept = req.headers['trpc-accept'] ?? req.headers.accept ?? '';
    if (String(accept).includes('application/jsonl')) return null;
    try {
      if (req.method === 'POST') {
        // tRPC's test for a JSON body: the media type alone, case-insensitive.
        const type = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
        const length = Number(req.headers['content-length']);
        if (type !== 'application/json' || req.headers['transfer-encoding'] !== undefined)
          return null;
        if (!Number.isInteger(length) || length < 1 || length > options.maxBodySize) return null;
        const paths = batchPaths(url, search, 'mutation');
        return paths ? { type: 'mutation', paths } : null;
      }
      const paths = batchPaths(url, search, 'query');
      if (!paths) return null;
      const inputs = batchInputs(paths, JSON.parse(params.get('input') ?? '{}'));
      return { type: 'query', paths, inputs };
    } catch {
      return null;
    }
  }

  /** The whole body of a request whose length is known (and capped by `match`), as it arrives. */
  function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.once('end', () =>
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
      );
      req.once('error', reject);
      req.once('close', () => {
        if (!req.complete) reject(new Error('the client went away before its body ended'));
      });
    });
  }

  async function serve(
    call: LaneCall,
    req: IncomingMessage & { body?: unknown },
    res: ServerResponse,
  ): Promise<void> {
    let inputs: unknown[];
    if (call.type === 'query') {
      inputs = call.inputs;
    } else {
      let body: string;
      try {
        body = (await readBody(req)).toString('utf8');
      } catch {
        // The client went away mid-body: nobody to answer, nothing to log as a failure.
        res.destroy();
        return;
      }
      try {
        inputs = batchInputs(call.paths, JSON.parse(body));
      } catch {
        // tRPC answers what the lane cannot (its own parse and shape errors).
        req.body = body;
        options.fallback(req, res);
        return;
      }
    }
    const ctx = options.createContext(req, res);
    const json: TRPCResponse[] = await Promise.all(
      call.paths.map(async (path, i) => {
        try {
          const data = await callTRPCProcedure({
            router: options.router,
            path,
            getRawInput: async () => inputs[i],
            ctx,
            type: call.type,
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
              type: call.type,
              path,
              input: inputs[i],
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

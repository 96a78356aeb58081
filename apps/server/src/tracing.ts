// Optional OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT): one server
// span per HTTP request (continuing a caller's W3C `traceparent`), one span
// per procedure call under it, one span per SQL statement under the call
// that ran it. Off by default; off, none of this runs on any request.
//
// The spans are made here with the OpenTelemetry API rather than by
// `@opentelemetry/sdk-node`'s automatic instrumentations: those patch
// CommonJS `require`, while the server is an ES-module bundle (patching it
// would need a loader hook on every start), and they would name spans by
// route (`GET /trpc/:path`) instead of by procedure.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallWrapper } from '@keel/api';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

// Span names a client cannot choose: the procedure paths of a batch (and
// the ids in a REST path) are in the child spans and attributes, not here.
const fixedRoutes = new Set(['/healthz', '/readyz', '/openapi.json', '/docs']);
function routeOf(path: string): string {
  if (path.startsWith('/trpc/')) return ' /trpc';
  if (path.startsWith('/api/')) return ' /api';
  return fixedRoutes.has(path) ? ` ${path}` : '';
}

/** What the server reports spans into. */
export interface Tracing {
  /** Runs `handle` inside a server span for this request; the span ends with the response. */
  request(req: IncomingMessage, res: ServerResponse, handle: () => void): void;
  /** Puts each procedure call in a span (see `CallWrapper`). */
  aroundCall: CallWrapper;
  /** One finished SQL statement (from Kysely's log hook), as a span under the running call. */
  query(sqlText: string, durationMs: number, failed: boolean): void;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts a tracer provider that sends to `exporter`. `batch` (production)
 * buffers spans and sends them in the background; tests pass an in-memory
 * exporter without it, so each span is there when its call returns.
 */
export function startTracing(options: {
  exporter: SpanExporter;
  serviceName: string;
  batch: boolean;
}): Tracing {
  const processor = options.batch
    ? new BatchSpanProcessor({ exporter: options.exporter })
    : new SimpleSpanProcessor({ exporter: options.exporter });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [processor],
    // Every request is traced: a caller's traceparent joins its trace, but
    // its "not sampled" flag cannot switch tracing off for its own requests.
    sampler: new ParentBasedSampler({
      root: new AlwaysOnSampler(),
      remoteParentNotSampled: new AlwaysOnSampler(),
    }),
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracer: Tracer = provider.getTracer('keel');

  return {
    request(req, res, handle) {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const url = req.url ?? '/';
      const path = url.split('?', 1)[0] ?? '/';
      const span = tracer.startSpan(
        `${req.method ?? 'GET'}${routeOf(path)}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path },
        },
        parent,
      );
      res.once('close', () => {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      context.with(trace.setSpan(parent, span), handle);
    },

    aroundCall(call, run, outcome) {
      return tracer.startActiveSpan(
        call.path,
        { attributes: { 'rpc.system': 'trpc', 'rpc.method': call.path, 'keel.type': call.type } },
        async (span) => {
          try {
            const result = await run();
            const code = outcome(result);
            span.setAttribute('keel.outcome', code);
            if (code === 'INTERNAL_SERVER_ERROR' || code === 'SERVICE_UNAVAILABLE')
              span.setStatus({ code: SpanStatusCode.ERROR, message: code });
            return result;
          } finally {
            span.end();
          }
        },
      );
    },

    query(sqlText, durationMs, failed) {
      const end = Date.now();
      const operation = /^\s*(\w+)/.exec(sqlText)?.[1]?.toUpperCase() ?? 'SQL';
      const span = tracer.startSpan(
        operation,
        {
          kind: SpanKind.CLIENT,
          startTime: end - durationMs,
          // The statement text only: its parameters (emails, tokens) never leave.
          attributes: { 'db.system.name': 'postgresql', 'db.query.text': sqlText },
        },
        context.active(),
      );
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(end);
    },

    async shutdown() {
      await provider.shutdown();
      contextManager.disable();
    },
  };
}

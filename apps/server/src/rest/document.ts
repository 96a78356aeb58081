// The OpenAPI 3.1 document of the REST routes, generated from the route
// table, the procedures' own zod input schemas and the output schemas, with
// zod's toJSONSchema (OpenAPI 3.1 schemas are JSON Schema 2020-12, zod's
// default target). Built once, on the first request for /openapi.json.
import type { AppRouter } from '@keel/api';
import { z } from 'zod';
import { errorsOf, type RestOperation, restOperations } from './operations';
import { inputSchemaOf, statusOf } from './routes';
import { type ErrorCode, errorSchema, schemaRegistry } from './schemas';

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

/** When each code is given; the same words as docs/api.md's error table. */
const errorWhen: Record<ErrorCode, string> = {
  BAD_REQUEST:
    'Invalid input (`fieldErrors` names each field), a tampered cursor, a body that is not JSON, a forbidden status move, a value the database refuses.',
  UNAUTHORIZED:
    'No, unknown, expired or revoked token (detail `TOKEN_REJECTED` when one was sent and refused), or a wrong email or password.',
  FORBIDDEN: 'A customer passing an admin-only option.',
  NOT_FOUND: 'A missing, deleted or someone else’s row, or a reference to a missing row.',
  TIMEOUT: 'The database statement or lock timed out; retry later.',
  CONFLICT:
    'A duplicate (email), not enough stock (detail `OUT_OF_STOCK`), an idempotency key reused with other items, or concurrent writes that kept failing.',
  PAYMENT_REQUIRED:
    'The payment provider declined the card (detail `PAYMENT_DECLINED` says why); the order stays unpaid.',
  PAYLOAD_TOO_LARGE: 'A body over the server’s body limit (100 KiB by default).',
  TOO_MANY_REQUESTS:
    'A limit that protects the shop: reads or sign-in attempts per address, failed sign-ins per account, searches at once, unpaid orders per customer.',
  INTERNAL_SERVER_ERROR: 'A fault on the server; the message is `internal error`.',
  SERVICE_UNAVAILABLE: 'The database is down or unreachable; retry later.',
};

const errorExample: Record<ErrorCode, unknown> = {
  BAD_REQUEST: {
    code: 'BAD_REQUEST',
    message: 'invalid input: limit: Too big: expected number to be <=100',
    fieldErrors: { limit: ['Too big: expected number to be <=100'] },
  },
  UNAUTHORIZED: {
    code: 'UNAUTHORIZED',
    message: 'the bearer token is invalid or expired; sign in again',
    detail: { reason: 'TOKEN_REJECTED' },
  },
  FORBIDDEN: { code: 'FORBIDDEN', message: 'includeInactive is for admins only' },
  NOT_FOUND: { code: 'NOT_FOUND', message: 'order not found' },
  TIMEOUT: { code: 'TIMEOUT', message: 'the database took too long to answer' },
  CONFLICT: {
    code: 'CONFLICT',
    message: 'not enough stock for "Enamel mug" (MUG-350): 1 left, 2 requested',
    detail: {
      reason: 'OUT_OF_STOCK',
      productId: '01936f3e-8c2a-7d41-9b6e-2f4a5c6d7e80',
      available: 1,
    },
  },
  PAYMENT_REQUIRED: {
    code: 'PAYMENT_REQUIRED',
    message: 'the payment was declined (insufficient funds); try another card',
    detail: { reason: 'PAYMENT_DECLINED', declineReason: 'insufficient_funds' },
  },
  PAYLOAD_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: 'the body is larger than 102400 bytes' },
  TOO_MANY_REQUESTS: {
    code: 'TOO_MANY_REQUESTS',
    message: 'too many attempts; wait a minute and retry',
  },
  INTERNAL_SERVER_ERROR: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' },
  SERVICE_UNAVAILABLE: {
    code: 'SERVICE_UNAVAILABLE',
    message: 'the database is unavailable; retry shortly',
  },
};

const description = `The REST face of Keel's API. Every route calls the same tRPC procedure the
typed client calls (named in each operation), with the same validation,
authentication and rate limits; only the encoding differs: plain JSON, so a
timestamp is an ISO 8601 string in UTC.

**Authentication.** \`POST /api/auth/register\` or \`POST /api/auth/login\`
returns a token; send it as \`Authorization: Bearer <token>\`.

**Errors** are \`{ "error": { "code", "message", "fieldErrors"?, "detail"? } }\`
with the HTTP status of the code; each operation lists the ones it can give.

**Pages.** Lists return \`{ items, nextCursor }\`; pass \`nextCursor\` back as
\`cursor\` (with the same other parameters) until it is null.`;

/** zod's JSON Schema, as an OpenAPI 3.1 schema object. */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: tidy,
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** The format names the rule; zod's long regular expression for it adds nothing a reader needs. */
function tidy(ctx: { jsonSchema: Record<string, unknown> }): void {
  if (ctx.jsonSchema.format) delete ctx.jsonSchema.pattern;
}

function componentName(schema: z.ZodType): string {
  const id = schemaRegistry.get(schema)?.id;
  if (!id) throw new Error('an output schema must be registered in schemaRegistry');
  return id;
}

function operationObject(router: AppRouter, operation: RestOperation) {
  const schema = inputSchemaOf(router, operation.procedure);
  const input = schema ? jsonSchemaOf(schema, 'input') : { properties: {} };
  const fields = input.properties ?? {};
  const inPath = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
  const parameter = (name: string, where: 'path' | 'query') => {
    const note = operation.fields?.[name];
    const example = operation.example.query?.[name];
    return {
      name,
      in: where,
      required: where === 'path' || (input.required ?? []).includes(name),
      schema: fields[name] ?? {},
      ...(note ? { description: note } : {}),
      ...(example !== undefined ? { example } : {}),
    };
  };
  const parameters = inPath.map((name) => parameter(name, 'path'));
  const bodyFields = Object.keys(fields).filter((name) => !inPath.includes(name));
  if (operation.method === 'get') {
    parameters.push(...bodyFields.map((name) => parameter(name, 'query')));
  }
  const body =
    operation.method === 'post' && bodyFields.length > 0
      ? {
          required: true,
          content: {
            'application/json': {
              schema: {
                ...input,
                properties: Object.fromEntries(bodyFields.map((name) => [name, fields[name]])),
                required: (input.required ?? []).filter((name) => bodyFields.includes(name)),
              },
              example: operation.example.body,
            },
          },
        }
      : undefined;

  const responses: Record<string, unknown> = {
    [operation.status]: {
      description: operation.status === 201 ? 'Created' : 'OK',
      content: {
        'application/json': {
          schema: { $ref: `#/components/schemas/${componentName(operation.output)}` },
          example: operation.example.response,
        },
      },
    },
  };
  for (const code of errorsOf(operation).sort((a, b) => statusOf(a) - statusOf(b))) {
    responses[statusOf(code)] = { $ref: `#/components/responses/${code}` };
  }

  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    description: `${operation.description}\n\nCalls the tRPC procedure \`${operation.procedure}\`.`,
    security:
      operation.auth === 'required'
        ? [{ bearer: [] }]
        : operation.auth === 'optional'
          ? [{}, { bearer: [] }]
          : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document for the /api routes.
 *
 * @example
 * ```ts
 * const document = createOpenApiDocument(appRouter);
 * Object.keys(document.paths); // ['/api/products', '/api/products/{id}', …]
 * ```
 */
export function createOpenApiDocument(router: AppRouter) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of restOperations) {
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, unknown>)[operation.method] = operationObject(
      router,
      operation,
    );
  }
  const { schemas } = z.toJSONSchema(schemaRegistry, {
    io: 'output',
    override: tidy,
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  const responses = Object.fromEntries(
    Object.keys(errorWhen).map((code) => [
      code,
      {
        description: `\`${code}\` (${statusOf(code as ErrorCode)}): ${errorWhen[code as ErrorCode]}`,
        content: {
          'application/json': {
            schema: { $ref: `#/components/schemas/${componentName(errorSchema)}` },
            example: { error: errorExample[code as ErrorCode] },
          },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.1',
    info: { title: 'Keel', version: '1.0.0', description },
    servers: [{ url: '/', description: 'this server' }],
    tags: [
      { name: 'products', description: 'The catalogue; no sign-in needed.' },
      { name: 'auth', description: 'Accounts and sessions.' },
      { name: 'orders', description: 'Your orders; sign in first.' },
    ],
    paths,
    components: {
      schemas,
      responses,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A session token from `POST /api/auth/register` or `POST /api/auth/login`, sent as `Authorization: Bearer <token>`. It lasts 7 days by default; `POST /api/auth/logout` revokes it.',
        },
      },
    },
  };
}

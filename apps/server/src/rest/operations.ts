// The REST face, one line per route: which procedure it calls, who may call
// it, what it answers and the errors it can give. The routes (routes.ts) and
// the OpenAPI document (document.ts) are both built from this table and from
// the procedures' own input schemas, so they cannot disagree.
import type { z } from 'zod';
import {
  type ErrorCode,
  orderPageSchema,
  orderSchema,
  productPageSchema,
  productSchema,
  sessionSchema,
  signedOutSchema,
  userSchema,
} from './schemas';

export interface RestOperation {
  operationId: string;
  method: 'get' | 'post';
  /** OpenAPI's form: `/api/orders/{id}`; each `{name}` is a field of the procedure's input. */
  path: string;
  /** The tRPC procedure it calls, e.g. `orders.place`. */
  procedure: string;
  tag: 'products' | 'auth' | 'orders';
  summary: string;
  description: string;
  /** none: no token is read; optional: a token is read when sent; required: a valid token. */
  auth: 'none' | 'optional' | 'required';
  status: 200 | 201;
  output: z.ZodType;
  /** The codes it can answer with besides those every route or every POST can (`errorsOf`). */
  errors: readonly ErrorCode[];
  /** Per-field notes for the document, beside what the schema already says. */
  fields?: Record<string, string>;
  example: {
    /** Path parameters, where the example's body alone is not the whole input. */
    path?: Record<string, unknown>;
    query?: Record<string, unknown>;
    body?: Record<string, unknown>;
    response: unknown;
  };
}

/**
 * Every code a route can answer with: its own, a database that times out,
 * is down or fails unexpectedly (any route), and a body that is not JSON or
 * too large (any POST, whether or not it reads a body).
 */
export function errorsOf(operation: RestOperation): ErrorCode[] {
  const codes = new Set<ErrorCode>(operation.errors);
  if (operation.method === 'post') codes.add('BAD_REQUEST').add('PAYLOAD_TOO_LARGE');
  for (const code of ['TIMEOUT', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'] as const) {
    codes.add(code);
  }
  return [...codes];
}

const product = {
  id: '01936f3e-8c2a-7d41-9b6e-2f4a5c6d7e80',
  sku: 'MUG-350',
  name: 'Enamel mug',
  description: 'A 350 ml enamel camping mug.',
  priceCents: 1450,
  currency: 'USD',
  stockQuantity: 120,
  isActive: true,
  createdAt: '2026-11-02T09:30:00.000Z',
  updatedAt: '2026-11-02T09:30:00.000Z',
};
const user = {
  id: '01936f40-1b7c-7e22-8a10-6c5d4e3f2a19',
  email: 'ada@example.com',
  displayName: 'Ada',
  role: 'customer',
  isActive: true,
  createdAt: '2026-11-03T14:05:12.000Z',
};
const session = { user, token: 'V2hhdCBhIGxvbmcgcmFuZG9tIHRva2VuIHRoaXMgaXM' };
const order = {
  id: '01936f42-5d3e-7a90-b1c2-3d4e5f60718a',
  userId: user.id,
  status: 'pending',
  totalCents: 2900,
  currency: 'USD',
  idempotencyKey: '4b0f8a3c-2f6e-4a8e-9d1b-7c5e3a2f1d60',
  placedAt: '2026-11-03T14:07:41.000Z',
  createdAt: '2026-11-03T14:07:41.000Z',
  updatedAt: '2026-11-03T14:07:41.000Z',
  items: [
    {
      id: '01936f42-5d40-7b11-8c22-4e5f60718293',
      productId: product.id,
      productName: product.name,
      quantity: 2,
      unitPriceCents: 1450,
    },
  ],
};

export const restOperations: readonly RestOperation[] = [
  {
    operationId: 'listProducts',
    method: 'get',
    path: '/api/products',
    procedure: 'products.list',
    tag: 'products',
    summary: 'List products',
    description:
      'Active products, a page at a time (keyset pagination: follow `nextCursor` until it is null). The same query parameters as the `products.list` procedure.',
    auth: 'optional',
    status: 200,
    output: productPageSchema,
    errors: ['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'TOO_MANY_REQUESTS'],
    fields: {
      cursor: '`nextCursor` from the previous page, unchanged; other query parameters must match',
      search: 'part of the name, any case; a search costs 10 reads of the per-address limit',
      includeInactive: 'admins only',
    },
    example: {
      query: { limit: 3, sort: 'price_asc' },
      response: { items: [product], nextCursor: 'eyJzIjoicHJvZHVjdHMucHJpY2VfYXNjIn0' },
    },
  },
  {
    operationId: 'getProduct',
    method: 'get',
    path: '/api/products/{id}',
    procedure: 'products.byId',
    tag: 'products',
    summary: 'Get a product',
    description: 'One product; an inactive one is `NOT_FOUND` except for admins.',
    auth: 'optional',
    status: 200,
    output: productSchema,
    errors: ['BAD_REQUEST', 'UNAUTHORIZED', 'NOT_FOUND', 'TOO_MANY_REQUESTS'],
    example: { response: product },
  },
  {
    operationId: 'register',
    method: 'post',
    path: '/api/auth/register',
    procedure: 'auth.register',
    tag: 'auth',
    summary: 'Create an account',
    description:
      'Creates a customer account and signs it in. The password needs at least 12 characters, not a common one and not built from the email. Attempts per address are limited.',
    auth: 'none',
    status: 201,
    output: sessionSchema,
    errors: ['CONFLICT', 'TOO_MANY_REQUESTS'],
    example: {
      body: { email: 'ada@example.com', password: 'analytical-engine-1843', displayName: 'Ada' },
      response: session,
    },
  },
  {
    operationId: 'login',
    method: 'post',
    path: '/api/auth/login',
    procedure: 'auth.login',
    tag: 'auth',
    summary: 'Sign in',
    description:
      'Returns a new session token. An unknown email and a wrong password give the same `UNAUTHORIZED`; failed attempts are limited per address and per account.',
    auth: 'none',
    status: 200,
    output: sessionSchema,
    errors: ['UNAUTHORIZED', 'TOO_MANY_REQUESTS'],
    example: {
      body: { email: 'ada@example.com', password: 'analytical-engine-1843' },
      response: session,
    },
  },
  {
    operationId: 'getMe',
    method: 'get',
    path: '/api/auth/me',
    procedure: 'auth.me',
    tag: 'auth',
    summary: 'The signed-in user',
    description: 'The account the bearer token belongs to.',
    auth: 'required',
    status: 200,
    output: userSchema,
    errors: ['UNAUTHORIZED', 'TOO_MANY_REQUESTS'],
    example: { response: user },
  },
  {
    operationId: 'logout',
    method: 'post',
    path: '/api/auth/logout',
    procedure: 'auth.logout',
    tag: 'auth',
    summary: 'Sign out',
    description: 'Revokes the session of the bearer token; the token is refused from then on.',
    auth: 'required',
    status: 200,
    output: signedOutSchema,
    errors: ['UNAUTHORIZED'],
    example: { response: { signedOut: true } },
  },
  {
    operationId: 'listOrders',
    method: 'get',
    path: '/api/orders',
    procedure: 'orders.list',
    tag: 'orders',
    summary: 'List your orders',
    description: 'The caller’s orders, newest first, each with its items; keyset-paginated.',
    auth: 'required',
    status: 200,
    output: orderPageSchema,
    errors: ['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'TOO_MANY_REQUESTS'],
    fields: { userId: 'admins only', allUsers: 'admins only' },
    example: {
      query: { limit: 10, status: 'pending' },
      response: { items: [order], nextCursor: null },
    },
  },
  {
    operationId: 'getOrder',
    method: 'get',
    path: '/api/orders/{id}',
    procedure: 'orders.byId',
    tag: 'orders',
    summary: 'Get an order',
    description: 'One of your orders with its items; another customer’s order is `NOT_FOUND`.',
    auth: 'required',
    status: 200,
    output: orderSchema,
    errors: ['BAD_REQUEST', 'UNAUTHORIZED', 'NOT_FOUND', 'TOO_MANY_REQUESTS'],
    example: { response: order },
  },
  {
    operationId: 'placeOrder',
    method: 'post',
    path: '/api/orders',
    procedure: 'orders.place',
    tag: 'orders',
    summary: 'Place an order',
    description:
      'Reserves stock at today’s prices. Send a fresh `idempotencyKey` (a UUID) per order and the same one when you retry: a retry returns the first order, never a second; the same key with other items is `CONFLICT`. Not enough stock is `CONFLICT` with the detail `OUT_OF_STOCK`; too many unpaid orders is `TOO_MANY_REQUESTS`.',
    auth: 'required',
    status: 201,
    output: orderSchema,
    errors: ['UNAUTHORIZED', 'NOT_FOUND', 'CONFLICT', 'TOO_MANY_REQUESTS'],
    example: {
      body: {
        idempotencyKey: order.idempotencyKey,
        items: [{ productId: product.id, quantity: 2 }],
      },
      response: order,
    },
  },
  {
    operationId: 'cancelOrder',
    method: 'post',
    path: '/api/orders/{id}/cancel',
    procedure: 'orders.cancel',
    tag: 'orders',
    summary: 'Cancel an order',
    description:
      'Cancels one of your orders while it is `pending` or `paid` and puts its stock back; from any other status it is `BAD_REQUEST`. No body.',
    auth: 'required',
    status: 200,
    output: orderSchema,
    errors: ['UNAUTHORIZED', 'NOT_FOUND', 'CONFLICT'],
    example: { response: { ...order, status: 'cancelled' } },
  },
  {
    operationId: 'payOrder',
    method: 'post',
    path: '/api/orders/{id}/pay',
    procedure: 'orders.pay',
    tag: 'orders',
    summary: 'Pay an order',
    description:
      'Pays one of your `pending` orders by card: it becomes `paid`. A declined card is `PAYMENT_REQUIRED` with the detail `PAYMENT_DECLINED` (the order stays unpaid); an order already paid is `CONFLICT`; an expired or cancelled one is `BAD_REQUEST`. With the built-in test provider, 4242 4242 4242 4242 approves and 4000 0000 0000 0002 declines (docs/operations.md lists them all).',
    auth: 'required',
    status: 200,
    output: orderSchema,
    errors: ['BAD_REQUEST', 'UNAUTHORIZED', 'NOT_FOUND', 'CONFLICT', 'PAYMENT_REQUIRED'],
    fields: { card: 'the number is sent to the payment provider and never stored' },
    example: {
      path: { id: order.id },
      body: {
        card: { number: '4242 4242 4242 4242', expiryMonth: 12, expiryYear: 2030, cvc: '123' },
      },
      response: { ...order, status: 'paid' },
    },
  },
];

// What the REST routes answer, as zod schemas: the OpenAPI document is
// generated from them, the compiler holds them to the procedures' output
// types, and the tests parse real responses with them. They never run on a
// request: the procedures' own types already say what they return.
import type { ErrorDetail, Order, Product, PublicUser } from '@keel/api';
import { z } from 'zod';

/** The schemas the document names in `components.schemas`. */
export const schemaRegistry = z.registry<{ id: string; description?: string }>();

const timestamp = z.iso
  .datetime()
  .meta({ description: 'ISO 8601 in UTC (plain JSON: tRPC sends a Date, REST a string)' });

export const userSchema = z
  .strictObject({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(['customer', 'admin']),
    isActive: z.boolean(),
    createdAt: timestamp,
  })
  .register(schemaRegistry, { id: 'User' });

export const productSchema = z
  .strictObject({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    priceCents: z.int().meta({ description: 'integer cents' }),
    currency: z.string().meta({ description: 'ISO 4217 code, e.g. USD' }),
    stockQuantity: z.int(),
    isActive: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .register(schemaRegistry, { id: 'Product' });

export const orderItemSchema = z
  .strictObject({
    id: z.uuid(),
    productId: z.uuid(),
    productName: z.string(),
    quantity: z.int(),
    unitPriceCents: z.int().meta({ description: 'the price when the order was placed' }),
  })
  .register(schemaRegistry, { id: 'OrderItem' });

export const orderSchema = z
  .strictObject({
    id: z.uuid(),
    userId: z.uuid(),
    status: z.enum(['pending', 'paid', 'shipped', 'delivered', 'cancelled']),
    totalCents: z.int(),
    currency: z.string(),
    idempotencyKey: z.uuid(),
    placedAt: timestamp,
    createdAt: timestamp,
    updatedAt: timestamp,
    items: z.array(orderItemSchema),
  })
  .register(schemaRegistry, { id: 'Order' });

const nextCursor = z
  .string()
  .nullable()
  .meta({ description: 'pass it as `cursor` for the next page; null on the last page' });

export const productPageSchema = z
  .strictObject({ items: z.array(productSchema), nextCursor })
  .register(schemaRegistry, { id: 'ProductPage' });

export const orderPageSchema = z
  .strictObject({ items: z.array(orderSchema), nextCursor })
  .register(schemaRegistry, { id: 'OrderPage' });

export const sessionSchema = z
  .strictObject({
    user: userSchema,
    token: z.string().meta({ description: 'send it as `Authorization: Bearer <token>`' }),
  })
  .register(schemaRegistry, { id: 'Session' });

export const signedOutSchema = z
  .strictObject({ signedOut: z.literal(true) })
  .register(schemaRegistry, { id: 'SignedOut' });

/** The codes a REST route can answer with, each with one HTTP status. */
export const errorCodes = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TIMEOUT',
  'CONFLICT',
  'PAYMENT_REQUIRED',
  'PAYLOAD_TOO_LARGE',
  'TOO_MANY_REQUESTS',
  'INTERNAL_SERVER_ERROR',
  'SERVICE_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

const detailSchema = z.discriminatedUnion('reason', [
  z.strictObject({ reason: z.literal('TOKEN_REJECTED') }),
  z.strictObject({ reason: z.literal('OUT_OF_STOCK'), productId: z.uuid(), available: z.int() }),
  z.strictObject({
    reason: z.literal('PAYMENT_DECLINED'),
    declineReason: z.enum([
      'card_declined',
      'insufficient_funds',
      'expired_card',
      'incorrect_cvc',
      'card_not_supported',
    ]),
  }),
]);

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(errorCodes),
      message: z.string().meta({ description: 'a sentence for a person; names the field or rule' }),
      fieldErrors: z
        .record(z.string(), z.array(z.string()))
        .optional()
        .meta({ description: 'invalid input: the messages for each field' }),
      detail: detailSchema
        .optional()
        .meta({ description: 'what a program can act on without reading the message' }),
    }),
  })
  .register(schemaRegistry, { id: 'Error' });

// The compiler holds each schema to what the procedures return, as plain JSON.
type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;
type SameType<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const matches: [
  SameType<z.output<typeof userSchema>, Json<PublicUser>>,
  SameType<z.output<typeof productSchema>, Json<Product>>,
  SameType<z.output<typeof orderSchema>, Json<Order>>,
  SameType<NonNullable<z.output<typeof errorSchema>['error']['detail']>, ErrorDetail>,
] = [true, true, true, true];
void matches;

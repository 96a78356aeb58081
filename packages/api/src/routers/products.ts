import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { pageInput } from '../pagination';
import {
  findProduct,
  insertProduct,
  listProducts,
  softDeleteProduct,
  updateProduct,
} from '../queries/products';
import { readCatalogue } from '../read-replica';
import { cents, currency, id, text } from '../shapes';
import { adminProcedure, maybeUserProcedure, refuseRead, router } from '../trpc';

const sku = z.string().regex(/^[A-Z0-9][A-Z0-9-]{2,39}$/, {
  error: 'must be 3–40 characters of A–Z, 0–9 and -, starting with a letter or digit',
});
const name = text(1, 200).refine((v) => v === v.trim(), {
  error: 'must not start or end with spaces',
});
const stockQuantity = z.number().int().min(0).max(2_147_483_647);

const productFields = z.object({
  sku,
  name,
  description: text(0, 5000).optional(),
  priceCents: cents,
  currency: currency.optional(),
  stockQuantity: stockQuantity.optional(),
  isActive: z.boolean().optional(),
});

const notFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'product not found' });

export const productsRouter = router({
  list: maybeUserProcedure
    .input(
      z
        .object({
          ...pageInput,
          sort: z.enum(['newest', 'price_asc', 'price_desc', 'name']).default('newest'),
          search: text(1, 200)
            .refine((value) => (value.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 3, {
              // Shorter ones cannot use the trigram index: each would scan the table.
              error: 'must hold at least 3 letters or digits',
            })
            .optional(),
          minPriceCents: cents.optional(),
          maxPriceCents: cents.optional(),
          includeInactive: z.boolean().default(false),
        })
        .default({ limit: 20, sort: 'newest', includeInactive: false }),
    )
    .query(async ({ ctx, input }) => {
      if (input.includeInactive && ctx.user?.role !== 'admin') {
        throw new TRPCError({ code: 'FORBIDDEN', message: 'includeInactive is for admins only' });
      }
      if (input.search !== undefined) {
        // The per-request cap first: a refused search should not spend reads.
        ctx.spent.searches += 1;
        if (ctx.spent.searches > ctx.settings.maxSearchesPerRequest) {
          throw new TRPCError({
            code: 'TOO_MANY_REQUESTS',
            message: `at most ${ctx.settings.maxSearchesPerRequest} searches per request; send the others separately`,
          });
        }
        // A search scans an index instead of reading a page by key: it costs
        // more of the address's reads (one is already charged).
        if (!ctx.allowRead(ctx.limitKey, ctx.settings.searchReadCost - 1)) {
          await refuseRead(ctx);
        }
      }
      const list = () => readCatalogue(ctx, (db) => listProducts(db, input, input));
      return input.search === undefined ? list() : ctx.searches.run(list);
    }),

  byId: maybeUserProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    return (
      (await readCatalogue(ctx, (db) =>
        findProduct(db, { id: input.id }, ctx.user?.role === 'admin'),
      )) ?? Promise.reject(notFound())
    );
  }),

  bySku: maybeUserProcedure.input(z.object({ sku })).query(async ({ ctx, input }) => {
    return (
      (await readCatalogue(ctx, (db) =>
        findProduct(db, { sku: input.sku }, ctx.user?.role === 'admin'),
      )) ?? Promise.reject(notFound())
    );
  }),

  create: adminProcedure
    .input(productFields)
    .mutation(({ ctx, input }) => insertProduct(ctx.db, input)),

  update: adminProcedure
    .input(productFields.partial().extend({ id, expectedUpdatedAt: z.date().optional() }))
    .mutation(async ({ ctx, input }) => {
      const { id: productId, expectedUpdatedAt, ...changes } = input;
      const updated = await updateProduct(ctx.db, productId, changes, expectedUpdatedAt);
      if (updated) return updated;
      if (expectedUpdatedAt && (await findProduct(ctx.db, { id: productId }, true))) {
        throw new TRPCError({
          code: 'CONFLICT',
          message: 'the product was changed by someone else; reload it and retry',
        });
      }
      throw notFound();
    }),

  delete: adminProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    if (!(await softDeleteProduct(ctx.db, input.id))) throw notFound();
    return { id: input.id, deleted: true as const };
  }),
});

// The only initTRPC in Keel; exports just the builders the routers use.
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import type { Context } from './context';
import { errorDetail, TokenRejected } from './domain-errors';
import { toTRPCError } from './errors';
import { type AuthenticatedUser, findSessionUser } from './queries/sessions';
import { keelTransformer } from './transformer';

const t = initTRPC.context<Context>().create({
  transformer: keelTransformer,
  // Stack traces never go over the wire, in any environment; the server logs them.
  isDev: false,
  errorFormatter({ shape, error }) {
    const invalid = error.cause instanceof ZodError ? error.cause : null;
    return {
      ...shape,
      // zod's own message is its issues as JSON; a person reads a sentence.
      message: invalid ? describeInvalidInput(invalid) : shape.message,
      data: {
        ...shape.data,
        zodError: invalid ? fieldErrorsOf(invalid) : null,
        detail: errorDetail(error.cause),
      },
    };
  },
});

/**
 * zod's flattened errors, keyed by each field's whole path (`card.number`,
 * `items.0.quantity`) rather than only its first segment, so a form can put
 * each message beside its own input.
 */
export function fieldErrorsOf(error: ZodError): {
  formErrors: string[];
  fieldErrors: Record<string, string[]>;
} {
  const formErrors: string[] = [];
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    if (issue.path.length === 0) {
      formErrors.push(issue.message);
      continue;
    }
    const field = issue.path.map(String).join('.');
    fieldErrors[field] = [...(fieldErrors[field] ?? []), issue.message];
  }
  return { formErrors, fieldErrors };
}

/** `invalid input: limit: Too big: expected number to be <=100; sort: Invalid option: …` */
export function describeInvalidInput(error: ZodError): string {
  const parts = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || 'input'}: ${issue.message}`);
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '';
  return `invalid input: ${parts.join('; ')}${more}`;
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Refuses a read once the address has spent its reads for the minute. Answer
 * a flooding address slowly: a waiting refusal costs a timer, while an
 * instant one invites the next request at once and keeps the CPU busy for
 * everyone else.
 */
export async function refuseRead(ctx: Context): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, ctx.settings.readRefusalDelayMs));
  throw new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: 'too many requests from this address; slow down and retry in a minute',
  });
}

/**
 * Inside the call wrapper, every call: reads (queries) are counted per client
 * address (a batch of 20 is 20; generous for a person, a ceiling for a
 * scraper or a flood), and every database error leaves the
 * procedure as a mapped API error, never raw. One middleware rather than two:
 * each level of tRPC's middleware chain copies the context and the call's
 * options, which profiling put at ~6 % of a products.byId request.
 */
const guardCall = t.middleware(async ({ ctx, type, next }) => {
  if (type === 'query' && !ctx.allowRead(ctx.limitKey)) await refuseRead(ctx);
  const result = await next();
  if (!result.ok) {
    const mapped = toTRPCError(result.error.cause ?? result.error);
    if (mapped !== result.error && result.error.code === 'INTERNAL_SERVER_ERROR') throw mapped;
  }
  return result;
});

/**
 * The outermost step of every call: hands it to the server's wrapper (metrics,
 * tracing) when there is one, so refusals, invalid input and mapped database
 * errors are all seen with their final code.
 */
const wrapCalls = t.middleware(({ ctx, path, type, next }) =>
  ctx.aroundCall
    ? ctx.aroundCall({ path, type }, next, (result) => (result.ok ? 'OK' : result.error.code))
    : next(),
);

export const publicProcedure = t.procedure.use(wrapCalls).use(guardCall);

const signInFirst = () =>
  new TRPCError({
    code: 'UNAUTHORIZED',
    message: 'sign in first: a valid bearer token is required',
  });

/**
 * A token was sent and the server does not accept it. Public procedures
 * refuse it too rather than answer as anonymous: a frontend learns at once
 * that its session ended instead of showing a signed-in page over anonymous data.
 */
export const tokenRejected = () => toTRPCError(new TokenRejected());

/**
 * Narrows the context to a signed-in user; anything else is UNAUTHORIZED.
 * After the user's successful mutation, tells the server to mark the caller
 * as having just written: its next catalogue reads go to the primary, which
 * already has the change (read your own writes).
 */
export const requireUser = t.middleware(async ({ ctx, type, next }) => {
  const user = ctx.token ? await findSessionUser(ctx.db, ctx.token) : null;
  if (!user) throw ctx.token ? tokenRejected() : signInFirst();
  // tRPC merges this into the context it has.
  const result = await next({ ctx: { user } });
  if (type === 'mutation' && result.ok) ctx.markWrite();
  return result;
});

/** Narrows a signed-in context to an admin; customers get FORBIDDEN. */
export const requireAdmin = t.middleware(async ({ ctx, next }) => {
  const user = (ctx as Context & { user?: AuthenticatedUser }).user;
  if (user?.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'admins only' });
  return next();
});

/** Resolves the user when a token is sent, without requiring one. */
export const optionalUser = t.middleware(async ({ ctx, next }) => {
  const user = ctx.token ? await findSessionUser(ctx.db, ctx.token) : null;
  if (ctx.token && !user) throw tokenRejected();
  return next({ ctx: { user } });
});

/** Limits attempts per client address and procedure (login, register). */
export const limitAttempts = t.middleware(async ({ ctx, path, next }) => {
  if (!(await ctx.allowAttempt(`${path}:${ctx.limitKey}`))) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: 'too many attempts; wait a minute and retry',
    });
  }
  return next();
});

export const rateLimitedProcedure = publicProcedure.use(limitAttempts);
export const userProcedure = publicProcedure.use(requireUser);
export const adminProcedure = userProcedure.use(requireAdmin);
export const maybeUserProcedure = publicProcedure.use(optionalUser);

// The only initTRPC in Keel; exports just the builders the routers use.
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
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

/** A tRPC error as it leaves a procedure: a database or domain error inside it mapped once, here. */
function mapped(error: TRPCError): TRPCError {
  return error.code === 'INTERNAL_SERVER_ERROR' ? toTRPCError(error.cause ?? error) : error;
}

/** What a middleware's `next` resolves to: `ok`, or the error tRPC made of what was thrown. */
type CallResult = { ok: true } | { ok: false; error: TRPCError };

/** Stands for a call refused by a thrown error inside the call wrapper, which must see its code. */
const refused: unique symbol = Symbol('refused');

/**
 * The one middleware of every procedure, with `access` its own checks
 * (signed in, admin, attempts) and the call after them. Around them, every
 * call: reads (queries) are counted per client address (a batch of 20 is 20;
 * generous for a person, a ceiling for a scraper or a flood); every database
 * or domain error leaves as a mapped API error, never raw; and the server's
 * call wrapper (metrics, tracing), when there is one, sees each call with
 * its final code, refusals included. One middleware rather than a chain:
 * each level of tRPC's chain copies the call's options twice, and a
 * products.list call went through four.
 */
async function guarded<R extends CallResult>(
  { ctx, path, type }: { ctx: Context; path: string; type: 'query' | 'mutation' | 'subscription' },
  access: () => Promise<R>,
): Promise<R> {
  const call = async (): Promise<R> => {
    if (type === 'query' && !ctx.allowRead(ctx.limitKey)) await refuseRead(ctx);
    let result: R;
    try {
      result = await access();
    } catch (cause) {
      throw mapped(getTRPCErrorFromUnknown(cause));
    }
    if (!result.ok) {
      const error = mapped(result.error);
      if (error !== result.error) throw error;
    }
    return result;
  };
  if (!ctx.aroundCall) return call();
  let thrown: unknown;
  const result = await ctx.aroundCall(
    { path, type },
    (): Promise<R | typeof refused> =>
      call().catch((cause: unknown) => {
        thrown = cause;
        return refused;
      }),
    (settled) =>
      settled === refused
        ? getTRPCErrorFromUnknown(thrown).code
        : settled.ok
          ? 'OK'
          : settled.error.code,
  );
  if (result === refused) throw thrown;
  return result;
}

/** Anyone may call it. */
export const publicProcedure = t.procedure.use((opts) => guarded(opts, () => opts.next()));

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
 * The caller of a token, or null without one. A token the server does not
 * accept is refused (TOKEN_REJECTED) rather than read as anonymous.
 */
async function sessionUser(ctx: Context): Promise<AuthenticatedUser | null> {
  if (!ctx.token) return null;
  const user = await findSessionUser(ctx.db, ctx.token);
  if (!user) throw tokenRejected();
  return user;
}

/**
 * Signed-in callers only (UNAUTHORIZED otherwise), and with `role` only
 * that role (FORBIDDEN otherwise); the context carries the user (tRPC merges
 * it in). After the caller's successful mutation, tells the server to mark
 * the caller as having just written: its next catalogue reads go to the
 * primary, which already has the change (read your own writes).
 */
function signedInProcedure(role?: 'admin') {
  return t.procedure.use((opts) =>
    guarded(opts, async () => {
      const user = await sessionUser(opts.ctx);
      if (!user) throw signInFirst();
      if (role && user.role !== role)
        throw new TRPCError({ code: 'FORBIDDEN', message: 'admins only' });
      const result = await opts.next({ ctx: { user } });
      if (opts.type === 'mutation' && result.ok) opts.ctx.markWrite();
      return result;
    }),
  );
}

export const userProcedure = signedInProcedure();
export const adminProcedure = signedInProcedure('admin');

/** Resolves the user when a token is sent, without requiring one (`user` is null without). */
export const maybeUserProcedure = t.procedure.use((opts) =>
  guarded(opts, async () =>
    // Anonymous calls (most catalogue reads) skip the lookup's await altogether.
    opts.next({ ctx: { user: opts.ctx.token ? await sessionUser(opts.ctx) : null } }),
  ),
);

/** Limits attempts per client address and procedure (login, register). */
export const rateLimitedProcedure = t.procedure.use((opts) =>
  guarded(opts, async () => {
    if (!(await opts.ctx.allowAttempt(`${opts.path}:${opts.ctx.limitKey}`))) {
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: 'too many attempts; wait a minute and retry',
      });
    }
    return opts.next();
  }),
);

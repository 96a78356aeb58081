import { z } from 'zod';

const seconds = z.coerce.number().int().min(1).max(3_600);

/**
 * Every variable the bench reads, validated in one place (the servers it
 * starts get their settings from the bench itself, not from here).
 * `turbo.json` lets each through (tested).
 */
const benchSchema = z.object({
  /** `1`: two short rounds instead of three long ones, to try a change quickly. */
  BENCH_QUICK: z.enum(['0', '1']).default('0'),
  /** The log level of the Keel servers the bench starts. */
  BENCH_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  /** Seconds per round of the single-scenario runners (run-list, run-pair, run-flood, profile-keel). */
  BENCH_SECONDS: seconds.optional(),
  /** Rounds of the single-scenario runners run-list and run-pair (at least 5 there). */
  BENCH_ROUNDS: z.coerce.number().int().min(1).max(50).default(2),
  /** MAX_CONCURRENT_SEARCHES of the server under the search flood (scenario G). */
  BENCH_CONCURRENT_SEARCHES: z.coerce.number().int().min(1).default(2),
});

/** The names of the variables the bench reads. */
export const benchVariables = Object.keys(benchSchema.shape);

/** The bench's environment, validated once; a bad value names its variable. */
export const benchEnv = (() => {
  const result = benchSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(
      `invalid bench environment: ${result.error.issues
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
})();

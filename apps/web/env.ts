import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65_535);

/**
 * Every variable the storefront's tooling reads (Vite's dev server and the
 * browser suite), validated in one place. `turbo.json` lets each through
 * (tested).
 */
const webSchema = z.object({
  /** The API that Vite proxies /trpc to (the server's own PORT and HOST). */
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Where Vite serves the storefront in development. */
  WEB_PORT: port.default(5173),
  /** A Chromium or Chrome binary for the browser suite; Debian's package by default. */
  CHROMIUM_PATH: z.string().min(1).optional(),
});

/** The names of the variables the storefront's tooling reads. */
export const webVariables = Object.keys(webSchema.shape);

/** The storefront tooling's environment, validated; a bad value names its variable. */
export function readWebEnvironment(env: NodeJS.ProcessEnv = process.env) {
  const result = webSchema.safeParse(env);
  if (!result.success) {
    throw new Error(
      `invalid storefront environment: ${result.error.issues
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

// Read your own writes with a replica: a signed-in caller who has just
// written reads the catalogue from the primary for a while. The marker lives
// in a cookie the caller carries, so every instance behind a load balancer
// honours it without shared memory and without a write per request.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The cookie's name; its value is the time of the caller's last write, in ms since the epoch. */
export const wroteAtCookie = 'keel_wrote_at';

const pattern = new RegExp(`(?:^|;\\s*)${wroteAtCookie}=(\\d{1,15})(?:;|$)`);

/** Reads and sets the read-your-writes marker for one window length. */
export interface ReadYourWrites {
  /** The request carries a write made within the window. */
  wroteRecently(req: IncomingMessage): boolean;
  /** Marks the response's caller as having written now (once per response). */
  mark(res: ServerResponse): void;
}

/**
 * @example
 * ```ts
 * const marker = readYourWrites(7_000);
 * marker.mark(res);          // Set-Cookie: keel_wrote_at=…; Max-Age=7; …
 * marker.wroteRecently(req); // true for the next 7 s
 * ```
 */
export function readYourWrites(windowMs: number): ReadYourWrites {
  const marked = new WeakSet<ServerResponse>();
  return {
    wroteRecently(req) {
      const header = req.headers.cookie;
      if (!header) return false;
      const at = Number(pattern.exec(header)?.[1]);
      const now = Date.now();
      // Another instance's clock may be a little ahead; a value far in the
      // future is not a marker this service wrote.
      return at >= now - windowMs && at <= now + windowMs;
    },
    mark(res) {
      if (marked.has(res) || res.headersSent) return;
      marked.add(res);
      res.appendHeader(
        'set-cookie',
        `${wroteAtCookie}=${Date.now()}; Max-Age=${Math.ceil(windowMs / 1_000)}; Path=/; HttpOnly; SameSite=Lax`,
      );
    },
  };
}

/**
 * A fixed-window counter per key (a client address and a procedure): at most
 * `limit` hits per `windowMs`. In memory, per process: behind several
 * instances, each enforces its own share; put a shared limiter at the proxy
 * for a global one.
 */
export function createRateLimiter(limit: number, windowMs = 60_000) {
  const windows = new Map<string, { startedAt: number; hits: number }>();
  let lastSweep = Date.now();
  return function allow(key: string, now = Date.now()): boolean {
    if (now - lastSweep > windowMs) {
      for (const [k, w] of windows) if (now - w.startedAt >= windowMs) windows.delete(k);
      lastSweep = now;
    }
    const window = windows.get(key);
    if (!window || now - window.startedAt >= windowMs) {
      windows.set(key, { startedAt: now, hits: 1 });
      return true;
    }
    window.hits += 1;
    return window.hits <= limit;
  };
}

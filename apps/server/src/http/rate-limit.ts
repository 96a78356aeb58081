/**
 * A token bucket per key: `perMinute` tokens a minute, refilled continuously,
 * at most `burst` saved up (10 s of them, and never less than one search's
 * cost of 10). Unlike a fixed window it allows no burst of a whole minute's
 * budget at once, so a flood cannot spend it in its first second. An
 * expensive call takes several tokens (`cost`). In this process's memory:
 * the read limit uses it, per instance, so reads pay no round trip to a
 * shared store (N instances allow N times the rate).
 */
export function createTokenBucket(
  perMinute: number,
  burst = Math.max(1, Math.ceil(perMinute / 6)),
) {
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = Date.now();
  return function take(key: string, now = Date.now(), cost = 1): boolean {
    if (now - lastSweep > 60_000) {
      // A bucket full again is the same as no bucket.
      for (const [k, b] of buckets) if (b.tokens + (now - b.at) * perMs >= burst) buckets.delete(k);
      lastSweep = now;
    }
    const bucket = buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  };
}

/**
 * Per-device token buckets: each bear may send `burst` requests at once and
 * `perSecond` sustained. A chatty or buggy bear gets `rateLimited` errors
 * instead of slowing everyone else's answers.
 */
export interface RateLimitOptions {
  readonly burst: number;
  readonly perSecond: number;
}

export interface RateLimiter {
  /** Takes one token for the device; false when its bucket is empty. */
  take(deviceId: string, nowMs?: number): boolean;
  /** Forgets a device (on disconnect), so idle bears cost no memory. */
  forget(deviceId: string): void;
  /** Forgets every key whose bucket has refilled completely (it would behave as new); for keys without a disconnect. */
  forgetIdle(nowMs?: number): void;
  /** Keys currently remembered. */
  readonly size: number;
}

export function createRateLimiter({ burst, perSecond }: RateLimitOptions): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(deviceId, nowMs = performance.now()) {
      let bucket = buckets.get(deviceId);
      if (bucket === undefined) buckets.set(deviceId, (bucket = { tokens: burst, at: nowMs }));
      bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * perSecond);
      bucket.at = nowMs;
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    forget(deviceId) {
      buckets.delete(deviceId);
    },
    forgetIdle(nowMs = performance.now()) {
      for (const [key, bucket] of buckets) {
        if (bucket.tokens + ((nowMs - bucket.at) / 1000) * perSecond >= burst) buckets.delete(key);
      }
    },
    get size() {
      return buckets.size;
    },
  };
}

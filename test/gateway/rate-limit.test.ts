import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../gateway/rate-limit.js';

describe('per-device token bucket', () => {
  it('allows a burst, then refills at the sustained rate, per device', () => {
    const limiter = createRateLimiter({ burst: 3, perSecond: 2 });
    const t0 = 1000;
    expect([1, 2, 3, 4].map(() => limiter.take('a', t0))).toEqual([true, true, true, false]);
    expect(limiter.take('b', t0)).toBe(true);
    expect(limiter.take('a', t0 + 499)).toBe(false);
    expect(limiter.take('a', t0 + 500)).toBe(true);
    expect(limiter.take('a', t0 + 10_000) && limiter.take('a', t0 + 10_000) && limiter.take('a', t0 + 10_000)).toBe(true);
    expect(limiter.take('a', t0 + 10_000)).toBe(false);
  });

  it('forgets a device', () => {
    const limiter = createRateLimiter({ burst: 1, perSecond: 0 });
    expect(limiter.take('a', 0)).toBe(true);
    expect(limiter.take('a', 0)).toBe(false);
    limiter.forget('a');
    expect(limiter.take('a', 0)).toBe(true);
  });
});

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ContentType, type MultiLayerCache } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
let cache: MultiLayerCache;
beforeAll(async () => {
  cache = await env.caches.make({ breakerFailureThreshold: 3 });
});

describe('fail-safe', () => {
  it('keeps answering while Redis is dead, stops hammering it, and uses it again when it is back', async () => {
    await cache.set('hot', 'from before', ContentType.AI_RESPONSE);
    await env.redis.kill();

    let computes = 0;
    for (let i = 0; i < 50; i++) {
      expect(await cache.get('hot', ContentType.AI_RESPONSE)).toBe('from before'); // L1
      const v = await cache.getWithFallback(`cold-${i % 5}`, ContentType.AI_RESPONSE, async () => `computed ${++computes}`);
      expect(v).toMatch(/^computed/);
    }
    const down = cache.getPerformanceMetrics();
    expect(down.breakerState).not.toBe('closed');
    // The breaker lets at most a probe through per reset period, not one call per request.
    expect(down.l2Errors).toBeLessThan(20);
    expect((await cache.health()).status).toBe('degraded');

    await env.redis.restart();
    await vi.waitFor(
      async () => {
        await cache.set('after', 'back', ContentType.AI_RESPONSE);
        expect(cache.getPerformanceMetrics().breakerState).toBe('closed');
      },
      { timeout: 10_000, interval: 100 },
    );
    const other = await env.caches.make();
    expect(await other.fetch('after', ContentType.AI_RESPONSE, async () => 'recomputed')).toMatchObject({ source: 'l2', value: 'back' });
  });

  it('serves a stale value within its grace period when the compute fails', async () => {
    const c = await env.caches.make({ policies: { [ContentType.AI_RESPONSE]: { staleGraceSeconds: 60 } } });
    await c.set('answer', 'yesterday', ContentType.AI_RESPONSE, { ttlSeconds: 0.1 });
    await new Promise((r) => setTimeout(r, 150));
    const failing = async (): Promise<string> => {
      throw new Error('provider down');
    };
    expect(await c.fetch('answer', ContentType.AI_RESPONSE, failing)).toEqual({ value: 'yesterday', source: 'stale' });
    expect(c.getPerformanceMetrics().staleServed).toBe(1);
    // No grace for sessions: the failure surfaces.
    await c.set('session', { step: 1 }, ContentType.USER_SESSION, { ttlSeconds: 0.1 });
    await new Promise((r) => setTimeout(r, 150));
    await expect(c.getWithFallback('session', ContentType.USER_SESSION, failing)).rejects.toThrow('provider down');
  });

  it('runs L1-only with one warning when Redis cannot be had', async () => {
    const l1only = await env.caches.make({ l2RedisUrl: undefined, l2Enabled: false });
    expect(await l1only.getWithFallback('k', ContentType.AI_RESPONSE, async () => 'v')).toBe('v');
    expect((await l1only.health()).l2.enabled).toBe(false);
  });
});

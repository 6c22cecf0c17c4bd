import { describe, expect, it, vi } from 'vitest';
import { ContentType } from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { useL2Caches } from '../helpers/cache.js';
import { keysInBucketOf, L2_BACKENDS } from '../helpers/l2-backends.js';

describe.each(L2_BACKENDS)('fail-safe on $name', (kind) => {
  const env = useL2Caches(kind);

  it('keeps answering while its Redis is dead, stops hammering it, and uses it again when it is back', async () => {
    const cache = await env.caches.make({ breakerFailureThreshold: 3 });
    // Every key of this test lives on the server that is killed (on the cluster: one master).
    const [hot, after, ...cold] = keysInBucketOf('hot', 7);
    await cache.set(hot!, 'from before', ContentType.AI_RESPONSE);
    await env.backend.kill(createKeyLayout('teddy:').entry(ContentType.AI_RESPONSE, hot!).l2Key);

    let computes = 0;
    for (let i = 0; i < 50; i++) {
      expect(await cache.get(hot!, ContentType.AI_RESPONSE)).toBe('from before'); // L1
      const v = await cache.getWithFallback(cold[i % cold.length]!, ContentType.AI_RESPONSE, async () => `computed ${++computes}`);
      expect(v).toMatch(/^computed/);
    }
    const down = cache.getPerformanceMetrics();
    expect(down.breakerState).not.toBe('closed');
    // The breaker lets at most a probe through per reset period, not one call per request.
    expect(down.l2Errors).toBeLessThan(20);
    expect((await cache.health()).status).toBe('degraded');

    await env.backend.recover();
    await vi.waitFor(
      async () => {
        await cache.set(after!, 'back', ContentType.AI_RESPONSE);
        expect(cache.getPerformanceMetrics().breakerState).toBe('closed');
      },
      { timeout: 15_000, interval: 100 },
    );
    const other = await env.caches.make();
    expect(await other.fetch(after!, ContentType.AI_RESPONSE, async () => 'recomputed')).toMatchObject({ source: 'l2', value: 'back' });
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

  it('runs L1-only when L2 is disabled', async () => {
    const l1only = await env.caches.make({ l2Enabled: false });
    expect(await l1only.getWithFallback('k', ContentType.AI_RESPONSE, async () => 'v')).toBe('v');
    expect((await l1only.health()).l2.enabled).toBe(false);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { ContentType, POLICIES, TimeoutError } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();

/** A compute that takes `ms` and counts its calls and the calls that ended. */
const slow = (ms: number, value: string, counter = { calls: 0, ended: 0 }) =>
  Object.assign(
    async () => {
      counter.calls += 1;
      await sleep(ms);
      counter.ended += 1;
      return value;
    },
    { counter },
  );

/** Sets a value that is stale (past its TTL, within its grace) by the time this resolves. */
async function staleValue(cache: Awaited<ReturnType<typeof env.caches.make>>, key: string, value: string): Promise<void> {
  await cache.set(key, value, ContentType.AI_RESPONSE, { ttlSeconds: 0.05 });
  await sleep(80);
}

describe('factory timeouts', () => {
  it('soft timeout: the caller gets the stale value, the compute goes on and fills the cache for everyone', async () => {
    const a = await env.caches.make({ ttlJitter: 0 });
    const b = await env.caches.make({ ttlJitter: 0 });
    await staleValue(a, 'soft', 'old answer');
    const compute = slow(400, 'new answer');
    const first = await a.fetch('soft', ContentType.AI_RESPONSE, compute, { softTimeoutMs: 50 });
    expect(first).toEqual({ value: 'old answer', source: 'stale' });
    expect(compute.counter).toEqual({ calls: 1, ended: 0 }); // served before the compute ended
    // B asks while A's background compute holds the lock: B does not compute too.
    const other = slow(10, 'b computed');
    expect(await b.fetch('soft', ContentType.AI_RESPONSE, other, { softTimeoutMs: 0 })).toEqual({ value: 'old answer', source: 'stale' });
    await vi.waitFor(async () => expect(await b.get('soft', ContentType.AI_RESPONSE)).toBe('new answer'), { timeout: 3000, interval: 20 });
    expect(await a.get('soft', ContentType.AI_RESPONSE)).toBe('new answer');
    expect(compute.counter.calls).toBe(1);
    expect(other.counter.calls).toBe(0);
  });

  it('hard timeout: the stale value if there is one, else a TimeoutError; the compute still fills the cache', async () => {
    const cache = await env.caches.make({ ttlJitter: 0 });
    await staleValue(cache, 'hard-stale', 'kept');
    expect(await cache.fetch('hard-stale', ContentType.AI_RESPONSE, slow(300, 'late'), { softTimeoutMs: Infinity, hardTimeoutMs: 50 })).toEqual({ value: 'kept', source: 'stale' });

    const compute = slow(300, 'late but cached');
    const err = await cache.fetch('hard-none', ContentType.AI_RESPONSE, compute, { hardTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).timeoutMs).toBe(50);
    const other = await env.caches.make();
    await vi.waitFor(async () => expect(await other.get('hard-none', ContentType.AI_RESPONSE)).toBe('late but cached'), { timeout: 3000, interval: 20 });
    expect(compute.counter.calls).toBe(1);
  });

  it('a caller waiting on another instance\'s compute is bound by its own timeouts too', async () => {
    const a = await env.caches.make();
    const b = await env.caches.make();
    const compute = slow(500, 'from a');
    const first = a.fetch('waited', ContentType.AI_RESPONSE, compute);
    await vi.waitFor(() => expect(compute.counter.calls).toBe(1), { interval: 2 }); // A holds the lock now
    const other = slow(10, 'from b');
    await expect(b.fetch('waited', ContentType.AI_RESPONSE, other, { hardTimeoutMs: 60 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await first).toMatchObject({ value: 'from a', source: 'compute' });
    expect(other.counter.calls).toBe(0);
  });

  it('per-type defaults: a stale answer is served at once, a session is never served stale', async () => {
    expect(POLICIES[ContentType.AI_RESPONSE]).toMatchObject({ softTimeoutMs: 0, hardTimeoutMs: 10_000 });
    expect(POLICIES[ContentType.USER_SESSION].softTimeoutMs).toBeUndefined();
    const cache = await env.caches.make({ ttlJitter: 0 });
    await staleValue(cache, 'default-soft', 'yesterday');
    const compute = slow(200, 'today');
    expect(await cache.fetch('default-soft', ContentType.AI_RESPONSE, compute)).toEqual({ value: 'yesterday', source: 'stale' });
    await vi.waitFor(async () => expect(await cache.get('default-soft', ContentType.AI_RESPONSE)).toBe('today'), { timeout: 3000, interval: 20 });

    await cache.set('session', { step: 1 }, ContentType.USER_SESSION, { ttlSeconds: 0.05 });
    await sleep(80);
    expect(await cache.fetch('session', ContentType.USER_SESSION, slow(50, 'fresh session'))).toMatchObject({ value: 'fresh session', source: 'compute' });
  });

  it('timeouts can be set per content type in the config, and bad values are refused', async () => {
    const cache = await env.caches.make({ policies: { [ContentType.CONFIGURATION]: { hardTimeoutMs: 40 } } });
    await expect(cache.fetch('cfg', ContentType.CONFIGURATION, slow(200, 'x'))).rejects.toBeInstanceOf(TimeoutError);
    await expect(env.caches.make({ policies: { [ContentType.CONFIGURATION]: { eagerRefreshThreshold: 1.5 } } })).rejects.toThrow(/eagerRefreshThreshold/);
    await expect(cache.fetch('cfg2', ContentType.CONFIGURATION, () => 'x', { softTimeoutMs: -1 })).rejects.toThrow(/softTimeoutMs/);
  });

  it('a hard timeout past Node\'s longest timer (24.8 days) is no limit, not an immediate TimeoutError', async () => {
    const cache = await env.caches.make();
    const month = 30 * 86_400_000;
    expect(await cache.fetch('month', ContentType.AI_RESPONSE, slow(50, 'waited for'), { hardTimeoutMs: month })).toMatchObject({ value: 'waited for', source: 'compute' });
    await expect(env.caches.make({ breakerResetMs: month })).rejects.toMatchObject({ name: 'ConfigError', field: 'breakerResetMs' });
  });
});

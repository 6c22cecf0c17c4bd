import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { ContentType, type CacheCallOptions, type CacheSource, type MultiLayerCache } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();

const TTL_S = 0.8;
const THRESHOLD = 0.25; // refreshed 0.2 s in: 0.6 s of margin before it would expire, on a loaded machine too
const RUN_MS = 2400;

/** Two instances read one hot key continuously for RUN_MS; returns what they saw. */
async function hotKey(key: string, a: MultiLayerCache, b: MultiLayerCache, options: CacheCallOptions | undefined) {
  let computes = 0;
  const compute = async () => {
    computes += 1;
    await sleep(30);
    return `v${computes}`;
  };
  const first = await a.fetch(key, ContentType.AI_RESPONSE, compute, options);
  expect(first.source).toBe('compute');
  const sources = new Set<CacheSource>();
  const values = new Set<string>();
  const started = Date.now();
  const reader = async (cache: MultiLayerCache) => {
    while (Date.now() - started < RUN_MS) {
      const r = await cache.fetch(key, ContentType.AI_RESPONSE, compute, options);
      sources.add(r.source);
      values.add(r.value);
      await sleep(5);
    }
  };
  await Promise.all([reader(a), reader(b)]);
  await sleep(100); // a refresh started at the very end lands
  return { computes, sources, values, elapsed: Date.now() - started };
}

describe('eager refresh', () => {
  it.each([
    ['policy (the L1 fast path)', undefined],
    ['per call', { eagerRefreshThreshold: THRESHOLD, ttlSeconds: TTL_S }],
  ] as const)('%s: a hot key read by two instances never waits for a compute and is computed once per period', async (name, options) => {
    const config = { ttlJitter: 0, policies: { [ContentType.AI_RESPONSE]: { ttlSeconds: TTL_S, ...(options ? {} : { eagerRefreshThreshold: THRESHOLD }) } } };
    const a = await env.caches.make(config);
    const b = await env.caches.make(config);
    const seen = await hotKey(`hot-${name}`, a, b, options);
    // Never a compute or a stale value on the read path: every read after the first was a hit.
    expect([...seen.sources].sort()).toEqual(expect.arrayContaining(['l1']));
    expect([...seen.sources].filter((x) => x === 'compute' || x === 'stale'), `sources seen: ${[...seen.sources]}`).toEqual([]);
    for (const c of [a, b]) expect(c.getPerformanceMetrics().coalescedComputes).toBe(0); // nobody waited on a lock holder
    // Refreshed at least once per TTL (no value expired), at most once per threshold period (one instance computes).
    const period = TTL_S * THRESHOLD * 1000;
    expect(seen.computes - 1).toBeGreaterThanOrEqual(Math.floor(seen.elapsed / (TTL_S * 1000)) - 1);
    expect(seen.computes - 1).toBeLessThanOrEqual(Math.ceil(seen.elapsed / period) + 1);
    expect(seen.values.size).toBeGreaterThan(3);
  });

  it('a refresh that failed is tried again by a later hit, before the value expires', async () => {
    const cache = await env.caches.make({ ttlJitter: 0 });
    const options = { eagerRefreshThreshold: 0.2, ttlSeconds: 1.5 };
    await cache.fetch('flaky', ContentType.AI_RESPONSE, () => 'first', options);
    await sleep(400); // past the threshold (0.3 s), 1.1 s before expiry
    const failing = () => {
      throw new Error('provider hiccup');
    };
    expect(await cache.fetch('flaky', ContentType.AI_RESPONSE, failing, options)).toMatchObject({ value: 'first', source: 'l1' });
    await vi.waitFor(() => expect(env.caches.warnings).toContain('eager refresh failed'), { timeout: 1000, interval: 5 });
    expect(await cache.fetch('flaky', ContentType.AI_RESPONSE, () => 'second', options)).toMatchObject({ value: 'first', source: 'l1' });
    await vi.waitFor(async () => expect(await cache.get('flaky', ContentType.AI_RESPONSE)).toBe('second'), { timeout: 800, interval: 10 });
  });

  it('a value without a refresh threshold is not refreshed early', async () => {
    const cache = await env.caches.make({ ttlJitter: 0 });
    let computes = 0;
    const compute = () => `v${++computes}`;
    await cache.fetch('plain', ContentType.CONFIGURATION, compute, { ttlSeconds: 2 });
    await sleep(1200); // 60 % of its TTL
    for (let i = 0; i < 5; i++) expect(await cache.fetch('plain', ContentType.CONFIGURATION, compute, { ttlSeconds: 2 })).toMatchObject({ source: 'l1' });
    await sleep(50);
    expect(computes).toBe(1);
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ContentType,
  InvalidKeyError,
  InvalidOptionError,
  POLICIES,
  SerializationError,
  UnknownContentTypeError,
  ValueTooLargeError,
  createCache,
  type MultiLayerCache,
} from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { useRedisCaches } from '../helpers/cache.js';

const layout = createKeyLayout('teddy:');

const env = useRedisCaches();
let raw: Redis;
let cache: MultiLayerCache;

beforeAll(async () => {
  raw = new Redis(env.redis.url);
  cache = await env.caches.make({ asyncWriteEnabled: false });
});
afterAll(() => raw.disconnect());

describe('MultiLayerCache on a real Redis', () => {
  it('answers from compute, then L1, then L2 for a fresh instance', async () => {
    let calls = 0;
    const compute = async () => ({ reply: 'Once upon a time', n: ++calls });
    expect((await cache.fetch('story', ContentType.AI_RESPONSE, compute)).source).toBe('compute');
    const again = await cache.fetch('story', ContentType.AI_RESPONSE, compute);
    expect(again).toMatchObject({ source: 'l1', value: { n: 1 } });
    const other = await env.caches.make();
    expect(await other.fetch('story', ContentType.AI_RESPONSE, compute)).toMatchObject({ source: 'l2', value: { n: 1 } });
    expect(calls).toBe(1);
  });

  it('gets, sets and deletes', async () => {
    expect(await cache.get('absent', ContentType.CONFIGURATION)).toBeUndefined();
    await cache.set('cfg', { volume: 3 }, ContentType.CONFIGURATION);
    expect(await cache.get('cfg', ContentType.CONFIGURATION)).toEqual({ volume: 3 });
    await cache.delete('cfg', ContentType.CONFIGURATION);
    expect(await cache.get('cfg', ContentType.CONFIGURATION)).toBeUndefined();
  });

  it('keeps each type for its policy TTL in Redis (minus jitter, plus stale grace)', async () => {
    for (const type of Object.values(ContentType)) {
      await cache.set(`ttl-${type}`, 'x', type);
    }
    for (const type of Object.values(ContentType)) {
      const policy = POLICIES[type];
      const pttl = await raw.pttl(layout.entry(type, `ttl-${type}`).l2Key);
      const max = (policy.ttlSeconds + policy.staleGraceSeconds) * 1000;
      expect(pttl).toBeLessThanOrEqual(max);
      expect(pttl).toBeGreaterThan(policy.ttlSeconds * 1000 * 0.9 + policy.staleGraceSeconds * 1000 - 5000);
    }
  });

  it('expires values after their TTL', async () => {
    await cache.set('brief', 'soon gone', ContentType.CONFIGURATION, { ttlSeconds: 0.2 });
    expect(await cache.get('brief', ContentType.CONFIGURATION)).toBe('soon gone');
    await new Promise((r) => setTimeout(r, 250));
    expect(await cache.get('brief', ContentType.CONFIGURATION)).toBeUndefined();
  });

  it('keeps model weights out of L1', async () => {
    await cache.set('weights', new Uint8Array(2048).fill(1), ContentType.MODEL_WEIGHTS);
    expect((await cache.fetch('weights', ContentType.MODEL_WEIGHTS, () => new Uint8Array())).source).toBe('l2');
    expect((await cache.fetch('weights', ContentType.MODEL_WEIGHTS, () => new Uint8Array())).source).toBe('l2');
  });

  it('bounds L1 by bytes and counts evictions', async () => {
    const small = await env.caches.make({ l1MaxSizeMb: 1 });
    const blob = new Uint8Array(100 * 1024);
    for (let i = 0; i < 30; i++) await small.set(`big-${i}`, blob, ContentType.STATIC_ASSET);
    const m = small.getPerformanceMetrics();
    expect(m.l1Bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(m.evictions).toBeGreaterThan(15);
    // Evicted from L1, still in L2:
    expect((await small.fetch('big-0', ContentType.STATIC_ASSET, () => new Uint8Array())).source).toBe('l2');
  });

  it('puts voice clips in L3 and names the blob', async () => {
    const audio = new Uint8Array(3000).map((_, i) => i % 251);
    const r = await cache.fetch('clip', ContentType.VOICE_SYNTHESIS, () => audio);
    expect(r.blob?.size).toBe(3000);
    expect(Buffer.from((await cache.blobStore!.get(r.blob!.sha256))!)).toEqual(Buffer.from(audio));
    // Lost from L1 and L2, the clip still comes back from L3.
    const l3only = await env.caches.make({ l1Enabled: false });
    expect(await raw.del(layout.entry(ContentType.VOICE_SYNTHESIS, 'clip').l2Key)).toBe(1);
    expect(await l3only.fetch('clip', ContentType.VOICE_SYNTHESIS, () => new Uint8Array())).toMatchObject({ source: 'l3', blob: r.blob });
  });

  it('rejects bad input with typed errors and keeps serving', async () => {
    await expect(cache.get('k', 'nonsense' as ContentType)).rejects.toBeInstanceOf(UnknownContentTypeError);
    await expect(cache.set('', 1, ContentType.CONFIGURATION)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.set('f', () => 1, ContentType.CONFIGURATION)).rejects.toBeInstanceOf(SerializationError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(cache.set('c', cyclic, ContentType.CONFIGURATION)).rejects.toBeInstanceOf(SerializationError);
    const tiny = await env.caches.make({ maxValueBytes: 1024 });
    await expect(tiny.set('big', 'x'.repeat(2000), ContentType.CONFIGURATION)).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(cache.fetch('fn', ContentType.AI_RESPONSE, () => Symbol('no'))).rejects.toBeInstanceOf(SerializationError);
    for (const options of [null, 'x', { policy: null }]) {
      await expect(cache.get('k', ContentType.CONFIGURATION, options as never)).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(cache.fetch('k', ContentType.CONFIGURATION, () => 1, options as never)).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(cache.delete('k', ContentType.CONFIGURATION, options as never)).rejects.toBeInstanceOf(InvalidOptionError);
    }
    await expect(cache.getWithFallback('no-fn', ContentType.CONFIGURATION, 'compute' as never)).rejects.toMatchObject({ name: 'InvalidOptionError', option: 'computeFn' });
    await expect(cache.warmCache(null as never)).rejects.toMatchObject({ name: 'InvalidOptionError', option: 'entries' });
    expect(await cache.warmCache([null as never, { key: 'warm-ok', contentType: ContentType.CONFIGURATION, value: 1 }])).toEqual({ warmed: 1, skipped: 0, failed: 1 });
    await cache.set('fine', 'still serving', ContentType.CONFIGURATION);
    expect(await cache.get('fine', ContentType.CONFIGURATION)).toBe('still serving');
  });

  it('refuses a bad TTL, grace or tag list before computing or writing, and goes on writing Redis', async () => {
    const T = ContentType.CONFIGURATION;
    let computes = 0;
    const compute = () => `v${++computes}`;
    for (const [options, option] of [
      [{ ttlSeconds: -1 }, 'ttlSeconds'],
      [{ ttlSeconds: Infinity }, 'ttlSeconds'],
      [{ tags: 'bedtime' }, 'tags'],
      [{ tags: [''] }, 'tags'],
      [{ policy: { staleGraceSeconds: Infinity } }, 'policy.staleGraceSeconds'],
      [{ policy: { ttlSeconds: 0 } }, 'policy.ttlSeconds'],
    ] as const) {
      await expect(cache.fetch('bad-options', T, compute, options as never), JSON.stringify(options)).rejects.toMatchObject({ name: 'InvalidOptionError', option });
      await expect(cache.set('bad-options', 'x', T, options as never)).rejects.toBeInstanceOf(InvalidOptionError);
    }
    expect(computes).toBe(0);
    // Nothing bad was kept for replay, so this instance's next write reaches Redis (an infinite TTL used to block them all).
    await cache.set('after-bad-options', 'written', T);
    expect((await cache.health()).l2.pendingChanges).toBe(0);
    expect(await (await env.caches.make()).get('after-bad-options', T)).toBe('written');
  });

  it('rejects a wrong config with a ConfigError naming the field', async () => {
    await expect(createCache({ l1MaxSizeMb: -1 })).rejects.toMatchObject({ name: 'ConfigError', field: 'l1MaxSizeMb' });
    await expect(createCache({ l2RedisUrl: 'http://x' })).rejects.toBeInstanceOf(ConfigError);
    await expect(createCache({ nope: 1 } as never)).rejects.toMatchObject({ field: 'nope' });
    await expect(createCache({ encryptionKeys: { a: 'c2hvcnQ=' } })).rejects.toBeInstanceOf(ConfigError);
    await expect(createCache({ policies: { [ContentType.CONFIGURATION]: { ttlSeconds: -5 } } })).rejects.toMatchObject({ field: 'policies.configuration.ttlSeconds' });
    await expect(createCache({ policies: { [ContentType.CONFIGURATION]: { staleGraceSeconds: Infinity } } })).rejects.toMatchObject({ field: 'policies.configuration.staleGraceSeconds' });
    await expect(createCache({ policies: { configuraton: { ttlSeconds: 60 } } as never })).rejects.toMatchObject({ field: 'policies.configuraton' });
    await expect(createCache({ policies: { [ContentType.CONFIGURATION]: 'short' } as never })).rejects.toMatchObject({ field: 'policies.configuration' });
  });

  it('reports metrics, health and advice', async () => {
    const m = cache.getPerformanceMetrics();
    expect(m.requests).toBe(m.hits + m.misses);
    expect(m.hitRate).toBeGreaterThan(0);
    expect(m.layers.l2.latency.count).toBeGreaterThan(0);
    expect(m.breakerState).toBe('closed');
    expect(await cache.health()).toMatchObject({ status: 'ok', l2: { connected: true, breaker: 'closed' } });
    expect(Array.isArray(cache.advise())).toBe(true);
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContentType } from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
const T = ContentType.CONFIGURATION;
let raw: Redis;
beforeAll(() => {
  raw = new Redis(env.redis.url);
});
afterAll(() => raw.disconnect());
const inRedis = async (prefix: string, key: string) => (await raw.exists(createKeyLayout(prefix).entry(T, key).l2Key)) === 1;

describe('per-call skips', () => {
  it('skipL1: neither read nor written in this process', async () => {
    const cache = await env.caches.make({ keyPrefix: 'skip1:', asyncWriteEnabled: false });
    await cache.set('k', 'in both', T);
    await raw.del(createKeyLayout('skip1:').entry(T, 'k').l2Key);
    expect(await cache.get('k', T, { skipL1: true })).toBeUndefined(); // L1 not read
    await cache.set('only-l2', 'v', T, { skipL1: true });
    expect(cache.peek('only-l2', T)).toBeUndefined(); // L1 not written
    expect(await cache.get('only-l2', T)).toBe('v');
  });

  it('skipL2Read: Redis is not read (a compute runs even though Redis has the value)', async () => {
    const a = await env.caches.make({ keyPrefix: 'skip2:', asyncWriteEnabled: false });
    const b = await env.caches.make({ keyPrefix: 'skip2:' });
    await a.set('k', 'in redis', T);
    expect(await b.fetch('k', T, () => 'computed', { skipL2Read: true })).toEqual({ value: 'computed', source: 'compute' });
    expect(await b.get('other', T, { skipL2Read: true })).toBeUndefined();
  });

  it('skipL2Write: Redis is not written nor deleted in', async () => {
    const cache = await env.caches.make({ keyPrefix: 'skip3:', asyncWriteEnabled: false });
    await cache.set('k', 'local only', T, { skipL2Write: true });
    expect(cache.peek('k', T)).toBe('local only');
    expect(await inRedis('skip3:', 'k')).toBe(false);
    await cache.fetch('c', T, () => 'computed locally', { skipL2Write: true });
    expect(await inRedis('skip3:', 'c')).toBe(false);
    await cache.set('d', 'kept in redis', T);
    await cache.delete('d', T, { skipL2Write: true });
    expect(await inRedis('skip3:', 'd')).toBe(true);
  });

  it('skipBusNotify: Redis is written but other instances keep their L1 copy', async () => {
    const a = await env.caches.make({ keyPrefix: 'skip4:', asyncWriteEnabled: false });
    const b = await env.caches.make({ keyPrefix: 'skip4:' });
    await a.set('k', 'v1', T);
    expect(await b.fetch('k', T, () => 'unused')).toMatchObject({ value: 'v1', source: 'l2' });
    await a.set('k', 'v2', T, { skipBusNotify: true });
    await a.set('marker', 'm', T); // announced: once B has it, the unannounced write would have arrived too
    await vi.waitFor(() => expect(b.getPerformanceMetrics().invalidationsReceived).toBeGreaterThan(0), { timeout: 2000, interval: 10 });
    expect(await b.get('k', T)).toBe('v1');
    expect(await b.get('k', T, { skipL1: true })).toBe('v2');
  });

  it('a non-boolean skip is a typed error', async () => {
    const cache = await env.caches.make();
    await expect(cache.get('k', T, { skipL1: 'yes' as unknown as boolean })).rejects.toThrow(/skipL1/);
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContentType, type MultiLayerCache } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
const T = ContentType.CONFIGURATION;
let admin: Redis;
beforeAll(() => {
  admin = new Redis(env.redis.url);
});
afterAll(() => admin.disconnect());

/** Subscriber connections (SSUBSCRIBE counts as pubsub on Redis 7.0: flag P). */
async function subscribers(): Promise<number> {
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  return list.split('\n').filter((l) => l.includes('ssub=')).length;
}

describe('coherence across a gap in the invalidation bus', () => {
  it('after its subscriber reconnects, B no longer serves what it held when an invalidation was missed', async () => {
    const a: MultiLayerCache = await env.caches.make();
    const b: MultiLayerCache = await env.caches.make();
    await a.set('bedtime', '20:00', T);
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ value: '20:00', source: 'l2' });
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ source: 'l1' });
    expect(await subscribers()).toBe(2);

    expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBe(2);
    // Published while B's subscriber is gone: B never receives this invalidation.
    await a.set('bedtime', '21:00', T);
    await vi.waitFor(async () => expect(await subscribers()).toBe(2), { timeout: 5000, interval: 5 });
    // As soon as the subscriber is back (B dropped its L1 when it reconnected, before re-subscribing).
    expect(await b.get('bedtime', T)).toBe('21:00');
    // And the bus works again afterwards.
    await b.fetch('bedtime', T, () => 'unused');
    await a.set('bedtime', '22:00', T);
    await vi.waitFor(async () => expect(await b.get('bedtime', T)).toBe('22:00'), { timeout: 5000, interval: 20 });
  });
});

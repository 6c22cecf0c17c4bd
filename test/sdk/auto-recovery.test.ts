import { describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../infra/redis-server.js';
import { ContentType } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
const T = ContentType.CONFIGURATION;

describe('auto-recovery', () => {
  it('replays the writes, deletes and invalidations made while Redis was down; a fresh instance reads the last ones', async () => {
    const a = await env.caches.make({ breakerFailureThreshold: 2 });
    await a.set('before', 'written before the outage', T);
    await env.redis.kill();

    await a.set('volume', 1, T);
    await a.set('volume', 2, T); // the newest per key wins
    await a.set('bedtime', '20:00', T);
    await a.set('short-lived', 'x', T);
    await a.delete('short-lived', T); // set then delete: the delete wins
    await a.delete('story', T);
    await a.set('story', 'once upon a time', T); // delete then set: the set wins
    await a.set('tagged', 'gone soon', T, { tags: ['outage'] });
    expect(await a.invalidateTag('outage')).toBe(0); // Redis cannot say which keys yet; replayed in order
    expect((await a.health()).l2.pendingChanges).toBeGreaterThan(0);

    await env.redis.restart(); // same port, empty (no persistence)
    await vi.waitFor(async () => expect((await a.health()).l2.pendingChanges).toBe(0), { timeout: 10_000, interval: 50 });

    const b = await env.caches.make();
    expect(await b.get('volume', T)).toBe(2);
    expect(await b.get('bedtime', T)).toBe('20:00');
    expect(await b.get('story', T)).toBe('once upon a time');
    expect(await b.get('short-lived', T)).toBeUndefined();
    expect(await b.get('tagged', T)).toBeUndefined();
  });

  it('replays as soon as Redis is back, not a breaker reset later', async () => {
    // The breaker is open for the whole outage and would stay open a minute: the reconnect lets its probe through.
    const a = await env.caches.make({ breakerFailureThreshold: 1, breakerResetMs: 60_000, keyPrefix: 'prompt:' });
    await env.redis.kill();
    await a.set('volume', 3, T);
    await a.delete('story', T);
    expect((await a.health()).l2.breaker).toBe('open');
    await env.redis.restart();
    await vi.waitFor(async () => expect((await a.health()).l2.pendingChanges).toBe(0), { timeout: 10_000, interval: 50 });
    expect((await a.health()).l2.breaker).toBe('closed');
    expect(await (await env.caches.make({ keyPrefix: 'prompt:' })).get('volume', T)).toBe(3);
  });

  it('says so when it is closed with changes still kept', async () => {
    const a = await env.caches.make({ breakerFailureThreshold: 2, keyPrefix: 'closing:' });
    await env.redis.kill();
    await a.set('last-words', 'goodnight', T);
    await a.close();
    await env.redis.restart();
    expect(env.caches.warnings).toContain('cache closed with L2 changes still kept for replay: dropped');
  });

  it('keeps at most autoRecoveryMaxItems changes, dropping the oldest', async () => {
    const a = await env.caches.make({ breakerFailureThreshold: 2, autoRecoveryMaxItems: 2, keyPrefix: 'bounded:' });
    await env.redis.kill();
    for (const k of ['k1', 'k2', 'k3']) await a.set(k, k, T);
    expect((await a.health()).l2.pendingChanges).toBe(2);
    await env.redis.restart();
    await vi.waitFor(async () => expect((await a.health()).l2.pendingChanges).toBe(0), { timeout: 10_000, interval: 50 });
    const b = await env.caches.make({ keyPrefix: 'bounded:' });
    expect(await b.get('k1', T)).toBeUndefined();
    expect(await b.get('k2', T)).toBe('k2');
    expect(await b.get('k3', T)).toBe('k3');
  });

  it('keeps at most autoRecoveryMaxMb of records, dropping the oldest', async () => {
    const a = await env.caches.make({ breakerFailureThreshold: 2, autoRecoveryMaxMb: 1 / 1024, keyPrefix: 'bytes:' }); // 1 KiB
    await env.redis.kill();
    for (const k of ['b1', 'b2', 'b3']) await a.set(k, k.repeat(200), T); // ~400 B records
    expect((await a.health()).l2.pendingChanges).toBe(2);
    await env.redis.restart();
    await vi.waitFor(async () => expect((await a.health()).l2.pendingChanges).toBe(0), { timeout: 10_000, interval: 50 });
    const b = await env.caches.make({ keyPrefix: 'bytes:' });
    expect(await b.get('b1', T)).toBeUndefined();
    expect(await b.get('b3', T)).toBe('b3'.repeat(200));
  });

  it('drops a change Redis refuses instead of holding the later ones behind it, and keeps the breaker closed', async () => {
    const a = await env.caches.make({ breakerFailureThreshold: 2, keyPrefix: 'refused:' });
    await a.set('tagged', 'gone soon', T, { tags: ['bedtime'] });
    await env.redis.kill();
    expect(await a.invalidateTag('bedtime')).toBe(0); // kept: Redis is down
    await a.set('after', 'written behind the invalidation', T); // kept behind it
    expect((await a.health()).l2.pendingChanges).toBe(2);

    // Back on the same port, as a Redis whose ACL refuses SMEMBERS, which the tag invalidation needs.
    const refusing = await startRedisServer({ port: env.redis.port, args: ['--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '-smembers'] });
    try {
      await vi.waitFor(async () => expect((await a.health()).l2.pendingChanges).toBe(0), { timeout: 10_000, interval: 50 });
      expect(env.caches.warnings).toContain('kept L2 change refused by Redis; dropped');
      const b = await env.caches.make({ keyPrefix: 'refused:' });
      expect(await b.get('after', T)).toBe('written behind the invalidation');

      // Refused on its first try: said, never kept, so nothing queues behind it; and Redis answered, so the breaker stays closed.
      const c = await env.caches.make({ breakerFailureThreshold: 2, keyPrefix: 'refused:' });
      for (let i = 0; i < 4; i++) expect(await c.invalidateTag('bedtime')).toBe(0);
      expect(env.caches.warnings).toContain('L2 change refused by Redis; not kept for replay');
      expect((await c.health()).l2).toMatchObject({ pendingChanges: 0, breaker: 'closed' });
      await c.set('later', 'at once', T);
      expect(await b.get('later', T)).toBe('at once');
    } finally {
      await refusing.stop();
      await env.redis.restart();
    }
  });

  it('keeps a change a full Redis turns down (OOM: not a refusal for good) and replays it once there is room', async () => {
    const a = await env.caches.make({ breakerFailureThreshold: 2, breakerResetMs: 200, keyPrefix: 'full:' });
    const admin = new Redis(env.redis.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      await a.set('volume', 7, T);
      expect((await a.health()).l2.pendingChanges).toBe(1);
      await admin.config('SET', 'maxmemory', '0');
      await vi.waitFor(async () => expect((await a.health()).l2.pendingChanges).toBe(0), { timeout: 10_000, interval: 50 });
      expect(await (await env.caches.make({ keyPrefix: 'full:' })).get('volume', T)).toBe(7);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ContentType, type ComputeContext } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
const T = ContentType.AI_RESPONSE;

describe('adaptive caching: computeFn(ctx)', () => {
  it('ctx.setTtl keeps the value as long as the compute says, in every instance', async () => {
    const a = await env.caches.make({ ttlJitter: 0, asyncWriteEnabled: false });
    const b = await env.caches.make({ ttlJitter: 0 });
    await a.fetch('brief', T, (ctx) => {
      ctx.setTtl(0.15);
      return 'short-lived answer';
    });
    expect(await b.get('brief', T)).toBe('short-lived answer');
    await sleep(200);
    expect(await a.get('brief', T)).toBeUndefined();
    expect(await b.get('brief', T)).toBeUndefined();
  });

  it('ctx.setTags tags the value for invalidateTag', async () => {
    const cache = await env.caches.make({ asyncWriteEnabled: false });
    await cache.fetch('tagged-by-compute', T, (ctx) => {
      ctx.setTags(['dinosaurs']);
      return 'T. rex was big';
    });
    expect(await cache.invalidateTag('dinosaurs')).toBe(1);
    expect(await cache.get('tagged-by-compute', T)).toBeUndefined();
  });

  it('ctx.skip returns the value but caches it nowhere', async () => {
    const a = await env.caches.make({ asyncWriteEnabled: false });
    const b = await env.caches.make();
    let computes = 0;
    const unsure = (ctx: ComputeContext<string>) => {
      computes += 1;
      ctx.skip(); // the provider flagged it low-confidence
      return 'maybe?';
    };
    expect(await a.fetch('unsure', T, unsure)).toEqual({ value: 'maybe?', source: 'compute' });
    expect(await a.get('unsure', T)).toBeUndefined();
    expect(await b.get('unsure', T)).toBeUndefined();
    expect(await b.fetch('unsure', T, unsure)).toMatchObject({ source: 'compute' }); // the lock was released
    expect(computes).toBe(2);
  });

  it('ctx.stale is the value being replaced; a zero-argument compute still works', async () => {
    const cache = await env.caches.make({ ttlJitter: 0 });
    expect(await cache.getWithFallback('counter', T, () => 1)).toBe(1);
    await cache.set('counter', 1, T, { ttlSeconds: 0.05 });
    await sleep(80);
    let seen: unknown = 'not called';
    const r = await cache.fetch<number>('counter', T, (ctx) => {
      seen = ctx.stale;
      return (ctx.stale ?? 0) + 1;
    }, { softTimeoutMs: Infinity });
    expect(seen).toBe(1);
    expect(r).toEqual({ value: 2, source: 'compute' });
    let fresh: unknown = 'not called';
    await cache.fetch('never-seen', T, (ctx) => (fresh = ctx.stale));
    expect(fresh).toBeUndefined();
  });

  it('a bad setTtl or setTags is a typed error', async () => {
    const cache = await env.caches.make();
    await expect(cache.fetch('bad-ttl', T, (ctx) => ctx.setTtl(-1))).rejects.toThrow(/setTtl/);
    await expect(cache.fetch('bad-tags', T, (ctx) => ctx.setTags(['' as string]))).rejects.toThrow(/setTags/);
  });
});

describe('adaptive caching: a destructured context', () => {
  it('works as the object does', async () => {
    const cache = await env.caches.make({ asyncWriteEnabled: false });
    await cache.fetch('destructured', T, ({ setTags, stale }) => {
      setTags(['loose']);
      return stale ?? 'first';
    });
    expect(await cache.invalidateTag('loose')).toBe(1);
  });
});

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ContentType, type MultiLayerCache } from '../../sdk/index.js';
import { useL2Caches } from '../helpers/cache.js';
import { L2_BACKENDS } from '../helpers/l2-backends.js';

describe.each(L2_BACKENDS)('cross-instance coherence on $name', (kind) => {
  const env = useL2Caches(kind);
  let a: MultiLayerCache;
  let b: MultiLayerCache;
  beforeAll(async () => {
    a = await env.caches.make();
    b = await env.caches.make();
  });

  /** Reads through B's L1: returns B's answer and the layer it came from. */
  const readB = (key: string) => b.fetch(key, ContentType.CONFIGURATION, () => 'computed-by-b');

  it('a set on A replaces the value B holds in L1', async () => {
    await a.set('volume', 1, ContentType.CONFIGURATION);
    expect(await readB('volume')).toMatchObject({ value: 1, source: 'l2' });
    expect(await readB('volume')).toMatchObject({ value: 1, source: 'l1' });
    await a.set('volume', 2, ContentType.CONFIGURATION);
    await vi.waitFor(async () => expect(await readB('volume')).toMatchObject({ value: 2 }), { timeout: 2000, interval: 10 });
  });

  it('a delete on A removes it from B', async () => {
    await a.set('bedtime', '20:00', ContentType.CONFIGURATION);
    await readB('bedtime');
    expect(await readB('bedtime')).toMatchObject({ source: 'l1' });
    await a.delete('bedtime', ContentType.CONFIGURATION);
    await vi.waitFor(async () => expect(await b.get('bedtime', ContentType.CONFIGURATION)).toBeUndefined(), { timeout: 2000, interval: 10 });
  });

  it('invalidateTag on A drops every tagged value from B, and B serves new values after', async () => {
    // Enough tagged keys to spread over many buckets (and, on the cluster, every master).
    const stories = Array.from({ length: 12 }, (_, i) => `story-${i}`);
    for (const k of stories) await a.set(k, `old ${k}`, ContentType.CONFIGURATION, { tags: ['stories'] });
    await a.set('untagged', 'stays', ContentType.CONFIGURATION);
    for (const k of [...stories, 'untagged']) await readB(k);
    expect(await readB('story-1')).toMatchObject({ source: 'l1' });
    expect(await a.invalidateTag('stories')).toBe(stories.length);
    await vi.waitFor(async () => expect(await b.get('story-1', ContentType.CONFIGURATION)).toBeUndefined(), { timeout: 2000, interval: 10 });
    for (const k of stories) expect(await b.get(k, ContentType.CONFIGURATION)).toBeUndefined();
    expect(await b.get('untagged', ContentType.CONFIGURATION)).toBe('stays');
    await a.set('story-1', 'new one', ContentType.CONFIGURATION, { tags: ['stories'] });
    expect(await readB('story-1')).toMatchObject({ value: 'new one' });
  });
});

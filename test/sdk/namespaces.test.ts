import { describe, expect, it, vi } from 'vitest';
import { ContentType, InvalidKeyError } from '../../sdk/index.js';
import { useL2Caches } from '../helpers/cache.js';
import { L2_BACKENDS } from '../helpers/l2-backends.js';

const T = ContentType.CONFIGURATION;

// On a cluster a namespace's entries (and its clear tag's set) live in many slots: clear() must reach them all.
describe.each(L2_BACKENDS)('namespaces on $name', (kind) => {
  const env = useL2Caches(kind);

  it('scopes keys: the same key in two namespaces and outside them are three values', async () => {
    const cache = await env.caches.make();
    const bear1 = cache.namespace('bear-1');
    const bear2 = cache.namespace('bear-2');
    await bear1.set('volume', 3, T);
    await bear2.set('volume', 7, T);
    await cache.set('volume', 5, T);
    expect(await bear1.get('volume', T)).toBe(3);
    expect(bear2.peek('volume', T)).toBe(7);
    expect(await cache.get('volume', T)).toBe(5);
    expect(await bear1.fetch('fresh', T, () => 'computed')).toMatchObject({ value: 'computed', source: 'compute' });
    expect(await bear2.get('fresh', T)).toBeUndefined();
    expect(bear1.name).toBe('bear-1');
    expect(cache.namespace('a').namespace('b').name).toBe('a/b');
  });

  it('scopes tags: invalidating a tag in one namespace leaves the others', async () => {
    const cache = await env.caches.make({ asyncWriteEnabled: false });
    const n1 = cache.namespace('tags-1');
    const n2 = cache.namespace('tags-2');
    await n1.set('story', 'one', T, { tags: ['stories'] });
    await n2.set('story', 'two', T, { tags: ['stories'] });
    await n2.fetch('poem', T, (ctx) => {
      ctx.setTags(['stories']);
      return 'roses';
    });
    expect(await n1.invalidateTag('stories')).toBe(1);
    expect(await n1.get('story', T)).toBeUndefined();
    expect(await n2.get('story', T)).toBe('two');
    expect(await n2.invalidateTag('stories')).toBe(2);
    expect(await n2.get('poem', T)).toBeUndefined();
  });

  it('clear() removes the namespace (and nested ones) from L2 and from every instance\'s L1, and nothing else', async () => {
    const a = await env.caches.make({ asyncWriteEnabled: false });
    const b = await env.caches.make();
    const viewA = a.namespace('session-42');
    await viewA.set('mood', 'happy', T);
    await viewA.fetch('story', T, () => 'dragons');
    await viewA.namespace('inner').set('deep', 'down', T);
    await a.namespace('other').set('mood', 'sleepy', T);
    const viewB = b.namespace('session-42');
    for (const k of ['mood', 'story']) expect(await viewB.fetch(k, T, () => 'unused')).toMatchObject({ source: 'l2' });
    expect(await viewB.fetch('mood', T, () => 'unused')).toMatchObject({ source: 'l1' });

    expect(await viewA.clear()).toBe(3);
    expect(await viewA.get('mood', T)).toBeUndefined();
    expect(await viewA.namespace('inner').get('deep', T)).toBeUndefined();
    await vi.waitFor(async () => expect(await viewB.get('mood', T)).toBeUndefined(), { timeout: 2000, interval: 10 });
    expect(await viewB.get('story', T)).toBeUndefined();
    expect(await b.namespace('other').get('mood', T)).toBe('sleepy');
  });

  it('refuses bad names and keys with typed errors', async () => {
    const cache = await env.caches.make();
    expect(() => cache.namespace('')).toThrow(InvalidKeyError);
    expect(() => cache.namespace('a\0b')).toThrow(InvalidKeyError);
    await expect(cache.namespace('ok').get('', T)).rejects.toThrow(InvalidKeyError);
  });
});

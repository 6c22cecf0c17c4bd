/**
 * Coherence across a gap in the invalidation bus, on one Redis and on a
 * Redis Cluster: the subscriber connections are killed (CLIENT KILL TYPE
 * pubsub, on every master), an invalidation is published while they are
 * gone, and the instance that missed it must not serve what it held once its
 * subscriptions are back. On the cluster each master has its own sharded
 * subscriber, so one shard's drop is a gap even while the client as a whole
 * stays connected.
 */
import { describe, expect, it, vi } from 'vitest';
import { ContentType, type MultiLayerCache } from '../../sdk/index.js';
import { useL2Caches } from '../helpers/cache.js';
import { L2_BACKENDS } from '../helpers/l2-backends.js';

const T = ContentType.CONFIGURATION;

describe.each(L2_BACKENDS)('coherence across a gap in the invalidation bus on $name', (kind) => {
  const env = useL2Caches(kind);

  /** Subscriber connections on every master (SSUBSCRIBE counts as pubsub on Redis 7.0). */
  async function subscribers(): Promise<number> {
    const lists = await Promise.all(env.backend.masters().map((m) => m.call('CLIENT', 'LIST', 'TYPE', 'pubsub') as Promise<string>));
    return lists.join('\n').split('\n').filter((l) => l.includes('ssub=') && !l.includes('ssub=0')).length;
  }

  it('after its subscribers are back, B no longer serves what it held when an invalidation was missed', async () => {
    const a: MultiLayerCache = await env.caches.make();
    const b: MultiLayerCache = await env.caches.make();
    await a.set('bedtime', '20:00', T);
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ value: '20:00', source: 'l2' });
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ source: 'l1' });
    const before = await subscribers();
    expect(before).toBeGreaterThanOrEqual(2);

    const killed = await Promise.all(env.backend.masters().map((m) => m.call('CLIENT', 'KILL', 'TYPE', 'pubsub')));
    expect(killed.reduce((n: number, k) => n + Number(k), 0)).toBe(before);
    // Published while B's subscribers are gone: B never receives this invalidation.
    await a.set('bedtime', '21:00', T);
    await vi.waitFor(async () => expect(await subscribers()).toBe(before), { timeout: 10_000, interval: 5 });
    // As soon as the subscribers are back (B dropped its L1 when they came back; on the cluster once
    // it confirmed every channel again, a few ms after the connections are counted).
    await vi.waitFor(async () => expect(await b.get('bedtime', T)).toBe('21:00'), { timeout: 2000, interval: 10 });
    // And the bus works again afterwards.
    await b.fetch('bedtime', T, () => 'unused');
    await a.set('bedtime', '22:00', T);
    await vi.waitFor(async () => expect(await b.get('bedtime', T)).toBe('22:00'), { timeout: 5000, interval: 20 });
  });
});

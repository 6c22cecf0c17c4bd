import { describe, expect, it } from 'vitest';
import { ContentType } from '../../sdk/index.js';
import { useL2Caches } from '../helpers/cache.js';
import { L2_BACKENDS } from '../helpers/l2-backends.js';

const slowCompute = (counter: { calls: number }) => async () => {
  counter.calls += 1;
  await new Promise((r) => setTimeout(r, 100));
  return { answer: 'Teddy bears love honey', at: counter.calls };
};

describe.each(L2_BACKENDS)('stampede protection on $name', (kind) => {
  const env = useL2Caches(kind);

  it('200 concurrent misses in one instance compute once', async () => {
    const cache = await env.caches.make();
    const counter = { calls: 0 };
    const results = await Promise.all(
      Array.from({ length: 200 }, () => cache.getWithFallback('popular-question', ContentType.AI_RESPONSE, slowCompute(counter))),
    );
    expect(counter.calls).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(cache.getPerformanceMetrics().coalescedComputes).toBe(199);
  });

  it('200 concurrent misses across two instances sharing Redis compute once', async () => {
    const a = await env.caches.make();
    const b = await env.caches.make();
    const counter = { calls: 0 };
    const compute = slowCompute(counter);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).getWithFallback('shared-question', ContentType.AI_RESPONSE, compute)),
    );
    expect(counter.calls).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
  });

  it('a failed compute releases the lock, and the next caller computes', async () => {
    const a = await env.caches.make();
    const b = await env.caches.make();
    await expect(
      a.getWithFallback('flaky', ContentType.AI_RESPONSE, async () => {
        throw new Error('provider down');
      }),
    ).rejects.toThrow('provider down');
    expect(await b.getWithFallback('flaky', ContentType.AI_RESPONSE, async () => 'recovered')).toBe('recovered');
  });

  it('a compute that outlives its lease keeps the lock: the holder renews it, so another instance waits instead of computing again', async () => {
    const LEASE_MS = 1000;
    const a = await env.caches.make({ lockLeaseMs: LEASE_MS });
    const b = await env.caches.make({ lockLeaseMs: LEASE_MS });
    const counter = { calls: 0 };
    const compute = async () => {
      counter.calls += 1;
      await new Promise((r) => setTimeout(r, 2.5 * LEASE_MS));
      return 'a long answer';
    };
    const first = a.getWithFallback('long-question', ContentType.AI_RESPONSE, compute);
    await new Promise((r) => setTimeout(r, 1.6 * LEASE_MS)); // past the lease the lock was taken with
    const second = b.getWithFallback('long-question', ContentType.AI_RESPONSE, compute);
    expect(await first).toBe('a long answer');
    expect(await second).toBe('a long answer');
    expect(counter.calls).toBe(1);
    expect(b.getPerformanceMetrics().coalescedComputes).toBe(1);
  });

  it('a record this instance cannot read does not make a caller wait for a lock holder that will never come: it computes at once', async () => {
    const a = await env.caches.make({ keyPrefix: 'foreign:', asyncWriteEnabled: false });
    const stranger = await env.caches.make({ keyPrefix: 'foreign:', encryptionKeys: { other: Buffer.alloc(32, 5).toString('base64') }, lockWaitMs: 20_000 });
    await a.set('secret', 'only a can read this', ContentType.AI_RESPONSE);
    // Waiting for a holder would end in a TimeoutError here.
    expect(await stranger.fetch('secret', ContentType.AI_RESPONSE, async () => 'computed by the stranger', { hardTimeoutMs: 3000 })).toMatchObject({
      source: 'compute',
    });
  });
});

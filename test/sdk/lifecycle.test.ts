import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ContentType, createCacheIntegrationService } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();

describe('lifecycle and integration service', () => {
  it('close() releases every socket and timer it opened', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const cache = await env.caches.make();
    await cache.set('x', 1, ContentType.CONFIGURATION);
    await cache.getWithFallback('y', ContentType.AI_RESPONSE, async () => 2);
    expect(sockets()).toBe(before + 2); // a command connection and a subscriber
    await cache.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(sockets()).toBe(before);
    await expect(cache.get('x', ContentType.CONFIGURATION)).rejects.toThrow(/closed/);
  });

  it('close() gives back the compute lock of a background refresh still running: the others need not wait out its lease', async () => {
    const policies = { [ContentType.AI_RESPONSE]: { ttlSeconds: 0.6, eagerRefreshThreshold: 0.1, softTimeoutMs: 5000 } }; // b waits for a holder, not serving stale
    const a = await env.caches.make({ ttlJitter: 0, policies });
    const b = await env.caches.make({ ttlJitter: 0, policies });
    await a.fetch('held', ContentType.AI_RESPONSE, async () => 'v1');
    await sleep(150); // past the refresh threshold
    let finish!: (v: string) => void;
    const refreshing = new Promise<void>((started) => {
      void a.fetch('held', ContentType.AI_RESPONSE, () => (started(), new Promise<string>((r) => (finish = r))));
    });
    await refreshing; // a holds the lock, computing in the background
    await a.close();
    await sleep(700); // the value has expired: b must take the lock
    const t0 = Date.now();
    const r = await b.fetch('held', ContentType.AI_RESPONSE, async () => 'v2');
    expect(r).toMatchObject({ value: 'v2', source: 'compute' });
    expect(Date.now() - t0).toBeLessThan(3000); // the lease is 10 s
    expect(b.getPerformanceMetrics().coalescedComputes).toBe(0);
    finish('late');
  });

  it('the integration service computes each step once per distinct input', async () => {
    const service = createCacheIntegrationService(await env.caches.make());
    let transcribe = 0;
    let respond = 0;
    let synth = 0;
    for (let i = 0; i < 3; i++) {
      expect(await service.cacheAudioTranscription('abc123', async () => `text ${++transcribe}`)).toBe('text 1');
      expect(await service.cacheAiResponse({ text: 'tell me a story', age: 5 }, async () => `story ${++respond}`)).toBe('story 1');
      const audio = await service.cacheVoiceSynthesis('story 1', 'bear', async () => (++synth, new Uint8Array([1, 2, 3])));
      expect([...audio]).toEqual([1, 2, 3]);
    }
    await service.cacheAiResponse({ text: 'tell me a story', age: 6 }, async () => `story ${++respond}`);
    expect([transcribe, respond, synth]).toEqual([1, 2, 1]);
    await expect(service.cacheAudioTranscription('', async () => 'x')).rejects.toThrow(TypeError);
  });

  it('warms entries with progress, skipping what is cached', async () => {
    const cache = await env.caches.make();
    await cache.set('w1', 'already', ContentType.AI_RESPONSE);
    const progress: number[] = [];
    const result = await cache.warmCache(
      [
        { key: 'w1', contentType: ContentType.AI_RESPONSE, compute: async () => 'new' },
        { key: 'w2', contentType: ContentType.AI_RESPONSE, compute: async () => 'new' },
        { key: 'w3', contentType: ContentType.CONFIGURATION, value: { v: 1 } },
        { key: 'w4', contentType: ContentType.AI_RESPONSE, compute: async () => Promise.reject(new Error('nope')) },
      ],
      (done) => progress.push(done),
    );
    expect(result).toEqual({ warmed: 2, skipped: 1, failed: 1 });
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(await cache.get('w2', ContentType.AI_RESPONSE)).toBe('new');
  });
});

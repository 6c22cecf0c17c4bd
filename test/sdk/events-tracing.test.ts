import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContentType, type CacheEventMap } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
const T = ContentType.AI_RESPONSE;

describe('events', () => {
  it('reports hits by layer, misses, stale values, timeouts and refreshes', async () => {
    const a = await env.caches.make({ ttlJitter: 0, asyncWriteEnabled: false });
    const b = await env.caches.make();
    const seen: string[] = [];
    const hits: CacheEventMap['hit'][] = [];
    b.on('hit', (e) => hits.push(e));
    for (const name of ['miss', 'stale', 'timeout', 'refresh'] as const) b.on(name, (e) => seen.push(`${name}:${JSON.stringify(e)}`));

    await a.set('q', 'answer', T);
    await b.fetch('q', T, () => 'unused'); // L2 hit
    await b.fetch('q', T, () => 'unused'); // L1 hit, fast path
    await b.get('nothing', T);
    expect(hits.map((h) => h.layer)).toEqual(['l2', 'l1']);
    expect(hits[0]).toEqual({ key: 'q', contentType: T, layer: 'l2' });
    expect(seen).toEqual([`miss:${JSON.stringify({ key: 'nothing', contentType: T })}`]);

    await a.set('old', 'yesterday', T, { ttlSeconds: 0.05 });
    await sleep(80);
    seen.length = 0;
    await b.fetch('old', T, async () => {
      await sleep(100);
      return 'today';
    }, { softTimeoutMs: 10 });
    expect(seen.map((s) => s.split(':')[0])).toEqual(['miss', 'timeout', 'stale']);
    expect(seen[1]).toContain('"kind":"soft"');

    seen.length = 0;
    await b.set('refresh-me', 'v1', T, { ttlSeconds: 1 });
    await sleep(600);
    await b.fetch('refresh-me', T, () => 'v2', { ttlSeconds: 1, eagerRefreshThreshold: 0.5 });
    expect(seen).toEqual([`refresh:${JSON.stringify({ key: 'refresh-me', contentType: T, reason: 'eager' })}`]);

    const before = hits.length;
    const listener = (e: CacheEventMap['hit']) => hits.push(e);
    b.off('hit', hits.push as never); // not registered: no effect
    b.on('hit', listener).off('hit', listener);
    expect(() => b.on('nope' as never, () => {})).toThrow(/unknown cache event/);
    await b.fetch('q', T, () => 'unused');
    expect(hits.length).toBe(before + 1); // the first listener still hears
  });

  it('reports L2 errors and breaker changes; a throwing listener does not break the cache', async () => {
    const cache = await env.caches.make({ breakerFailureThreshold: 2 });
    const errors: Error[] = [];
    const states: string[] = [];
    cache.on('l2-error', (e) => errors.push(e.error));
    cache.on('breaker', (e) => states.push(e.state));
    cache.on('miss', () => {
      throw new Error('listener bug');
    });
    await env.redis.kill();
    for (let i = 0; i < 3; i++) expect(await cache.getWithFallback(`k${i}`, T, () => 'computed')).toBe('computed');
    expect(errors.length).toBeGreaterThan(0);
    expect(states).toContain('open');
    await env.redis.restart();
    await vi.waitFor(async () => {
      await cache.get('probe', T);
      expect(states.at(-1)).toBe('closed');
    }, { timeout: 10_000, interval: 100 });
  });
});

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    await provider.shutdown();
  });

  it('a miss has a span per layer under the call\'s span; an L1 hit on the fast path has none', async () => {
    const cache = await env.caches.make();
    exporter.reset();
    await cache.fetch('traced', ContentType.VOICE_SYNTHESIS, () => new Uint8Array([1, 2, 3]));
    await vi.waitFor(() => expect(exporter.getFinishedSpans().map((s) => s.name)).toContain('teddycache.fetch'), { timeout: 2000, interval: 10 });
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'teddycache.fetch')!;
    expect(root.attributes).toMatchObject({ 'teddycache.content_type': ContentType.VOICE_SYNTHESIS, 'teddycache.source': 'compute' });
    const children = spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId);
    expect(new Set(children.map((s) => s.attributes['teddycache.layer']))).toEqual(new Set(['l1', 'l2', 'l3', 'compute']));
    for (const c of children) expect(c.spanContext().traceId).toBe(root.spanContext().traceId);

    exporter.reset();
    await cache.fetch('traced', ContentType.VOICE_SYNTHESIS, () => new Uint8Array([9]));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

/**
 * Every L2 call is bound by l2TimeoutMs (sdk/call-deadlines.ts, not ioredis's
 * per-command timer): a Redis that stops answering while connected (a real
 * redis-server under SIGSTOP) fails reads, a miss's scripts, writes and
 * deletes over to what the process has within the bound, says so (`l2-error`), and
 * the cache reads L2 again once Redis answers. The deadlines' own timing is
 * checked apart, on promises.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { callDeadlines } from '../../sdk/call-deadlines.js';
import { ContentType } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const TYPE = ContentType.CONFIGURATION;
/** Timers fire late on a loaded machine, never early; what the bound may overrun by here. */
const SLACK_MS = 400;

describe('callDeadlines', () => {
  it('fails a call not settled within 1–1.5× the timeout and passes settled ones through', async () => {
    const deadlines = callDeadlines(100);
    const start = performance.now();
    const never = deadlines.watch(new Promise(() => {}));
    await expect(deadlines.watch(Promise.resolve(7))).resolves.toBe(7);
    await expect(deadlines.watch(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await expect(never).rejects.toThrow('Redis did not answer within 100 ms');
    const waited = performance.now() - start;
    expect(waited).toBeGreaterThanOrEqual(99);
    expect(waited).toBeLessThan(150 + SLACK_MS);
  });

  it('answers a call that settles after its deadline with the timeout, not with the late value', async () => {
    const deadlines = callDeadlines(50);
    let settle!: (v: string) => void;
    const watched = deadlines.watch(new Promise<string>((resolve) => (settle = resolve)));
    await expect(watched).rejects.toThrow('Redis did not answer within 50 ms');
    settle('late');
    await expect(watched).rejects.toThrow('did not answer');
  });
});

describe('a Redis that stops answering', () => {
  const env = useRedisCaches();

  it('bounds reads, misses, writes and deletes by l2TimeoutMs, and L2 serves again once it answers', async () => {
    const writer = await env.caches.make();
    await writer.set('kept', 'from L2', TYPE);
    // A high threshold keeps the breaker closed, so every call below goes to the silent Redis.
    const cache = await env.caches.make({ breakerFailureThreshold: 1000 });
    const errors: string[] = [];
    cache.on('l2-error', ({ error }) => errors.push(error.message));
    const pid = env.redis.pid!;
    process.kill(pid, 'SIGSTOP');
    // Resumed after the checks, and in any case after 3 s: a call that hangs must fail the test, not leave Redis stopped.
    const resumeAnyway = setTimeout(() => process.kill(pid, 'SIGCONT'), 3000);
    try {
      const start = performance.now();
      const [read, computed, written, deleted] = await Promise.all([
        cache.get('kept', TYPE),
        cache.getWithFallback('new', TYPE, () => 'computed'),
        cache.set('other', 'value', TYPE).then(() => 'set'),
        cache.delete('gone', TYPE).then(() => 'deleted'),
      ]);
      const took = performance.now() - start;
      expect(read).toBeUndefined();
      expect(computed).toBe('computed');
      expect(written).toBe('set');
      expect(deleted).toBe('deleted');
      // The miss waits on two calls in turn (read-or-lock, then the write): each 300–450 ms.
      expect(took).toBeGreaterThanOrEqual(299);
      expect(took).toBeLessThan(2 * 450 + SLACK_MS);
      expect(errors).toContain('Redis did not answer within 300 ms');
    } finally {
      clearTimeout(resumeAnyway);
      process.kill(pid, 'SIGCONT');
    }
    await vi.waitFor(async () => expect(await cache.get('kept', TYPE, { skipL1: true })).toBe('from L2'), { timeout: 5000, interval: 50 });
  });
});

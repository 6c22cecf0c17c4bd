/**
 * What a miss costs Redis: the read-or-lock script and the write-and-unlock
 * script, nothing else; an L2 hit is one script; an L1 hit costs nothing; so
 * a change that adds a round trip fails here. Counted by the server
 * (MONITOR), which marks what a script runs inside it as such: only commands
 * sent by a client count. (A script's first use on a connection may be sent
 * as EVAL instead of EVALSHA; both count as one script.)
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentType, type MultiLayerCache } from '../../sdk/index.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
let raw: Redis;
let a: MultiLayerCache;
let b: MultiLayerCache;

beforeAll(async () => {
  raw = new Redis(env.redis.url);
  a = await env.caches.make({ asyncWriteEnabled: false });
  b = await env.caches.make({ asyncWriteEnabled: false });
});
afterAll(() => raw.disconnect());

/** The commands clients sent while `run` ran, by name (what scripts ran inside them excluded). */
async function clientCommands(run: () => Promise<unknown>): Promise<Record<string, number>> {
  const monitor = await raw.monitor();
  const counts: Record<string, number> = {};
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return;
    const name = /^eval(sha)?$/i.test(args[0]!) ? 'script' : args[0]!.toLowerCase();
    counts[name] = (counts[name] ?? 0) + 1;
  });
  await run();
  // MONITOR reports asynchronously: one round trip of its own flushes what came before.
  await raw.ping();
  await new Promise((r) => setTimeout(r, 50));
  monitor.disconnect();
  delete counts.ping;
  return counts;
}

describe('Redis round trips', () => {
  it('a miss is two scripts, an L2 hit one, an L1 hit none', async () => {
    const miss = await clientCommands(async () => {
      expect(await a.fetch('rt-key', ContentType.AI_RESPONSE, () => 'answer')).toMatchObject({ source: 'compute' });
    });
    expect(miss).toEqual({ script: 2 });
    const l2Hit = await clientCommands(async () => {
      expect(await b.fetch('rt-key', ContentType.AI_RESPONSE, () => 'never')).toMatchObject({ source: 'l2', value: 'answer' });
    });
    expect(l2Hit).toEqual({ script: 1 });
    const l1Hit = await clientCommands(async () => {
      expect(await b.fetch('rt-key', ContentType.AI_RESPONSE, () => 'never')).toMatchObject({ source: 'l1', value: 'answer' });
    });
    expect(l1Hit).toEqual({});
  });

  it('keeps the same key under two content types apart in L1', async () => {
    await a.set('shared', 'config value', ContentType.CONFIGURATION);
    await a.set('shared', 'asset value', ContentType.STATIC_ASSET);
    expect(a.peek('shared', ContentType.CONFIGURATION)).toBe('config value');
    expect(a.peek('shared', ContentType.STATIC_ASSET)).toBe('asset value');
    await a.delete('shared', ContentType.CONFIGURATION);
    expect(a.peek('shared', ContentType.CONFIGURATION)).toBeUndefined();
    expect(a.peek('shared', ContentType.STATIC_ASSET)).toBe('asset value');
    await a.set('shared', 'config again', ContentType.CONFIGURATION);
    await a.set('shared', 'asset again', ContentType.STATIC_ASSET);
    expect([a.peek('shared', ContentType.CONFIGURATION), a.peek('shared', ContentType.STATIC_ASSET)]).toEqual(['config again', 'asset again']);
  });
});

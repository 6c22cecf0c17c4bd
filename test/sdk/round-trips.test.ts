/**
 * What a miss costs Redis: the read-or-lock script and the write-and-unlock
 * script, nothing else; an L2 hit is one script; an L1 hit costs nothing; the
 * `get`s of one tick are MGETs of up to 8 keys and its misses share calls of
 * each script (per hash-tag bucket on a cluster); so a change that adds a
 * round trip fails here, on one Redis and on a cluster.
 * Counted by the servers (MONITOR on every master), which mark what a script
 * runs inside them as such: only commands sent by a client count. (A
 * script's first use on a connection may be sent as EVAL instead of EVALSHA;
 * both count as one script. Connection upkeep and the invalidation bus's
 * probe, which are not per request, are left out.)
 */
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { ContentType, type MultiLayerCache } from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { sha256Hex } from '../../sdk/keys.js';
import { useL2Caches } from '../helpers/cache.js';
import { L2_BACKENDS } from '../helpers/l2-backends.js';

/** What the bus's probe carries: its instance id alone (an invalidation also names keys). */
const PROBE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The commands clients sent to any master while `run` ran, by name (what scripts ran inside them excluded). */
async function clientCommands(masters: Redis[], run: () => Promise<unknown>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let counting = false;
  const monitors = await Promise.all(masters.map((m) => m.monitor()));
  for (const monitor of monitors) {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua' || !counting) return;
      // The invalidation bus's probe, an SPUBLISH of its bare id once a second, is upkeep too.
      if (/^spublish$/i.test(args[0]!) && PROBE.test(args[2] ?? '')) return;
      const name = /^eval(sha)?$/i.test(args[0]!) ? 'script' : args[0]!.toLowerCase();
      counts[name] = (counts[name] ?? 0) + 1;
    });
  }
  // MONITOR reports asynchronously: one round trip of its own on each master flushes what came
  // before (here, the monitor connections' own ready checks).
  const flush = async () => {
    await Promise.all(masters.map((m) => m.ping()));
    await new Promise((r) => setTimeout(r, 50));
  };
  await flush();
  counting = true;
  await run();
  await flush();
  for (const monitor of monitors) monitor.disconnect();
  // Connection upkeep, not per request: a cluster client's node connections open lazily (with an
  // INFO ready check) and it refreshes its slot map (CLUSTER SLOTS/INFO). The bus's probe is left out above.
  for (const upkeep of ['ping', 'info', 'cluster']) delete counts[upkeep];
  return counts;
}

/** `count` keys (named from `stem`) whose L2 names fall in one hash-tag bucket (the hash's first two hex digits, ../../sdk/key-layout.ts). */
function keysInOneBucket(stem: string, count: number): string[] {
  const byBucket = new Map<string, string[]>();
  for (let i = 0; ; i++) {
    const key = `${stem}-${i}`;
    const bucket = sha256Hex(key).slice(0, 2);
    const keys = byBucket.get(bucket) ?? [];
    keys.push(key);
    byBucket.set(bucket, keys);
    if (keys.length === count) return keys;
  }
}

describe.each(L2_BACKENDS)('Redis round trips on $name', (kind) => {
  const env = useL2Caches(kind);
  let a: MultiLayerCache;
  let b: MultiLayerCache;
  beforeAll(async () => {
    a = await env.caches.make({ asyncWriteEnabled: false });
    b = await env.caches.make({ asyncWriteEnabled: false });
  });

  it('a miss is two scripts, an L2 hit one, an L1 hit none', async () => {
    const masters = env.backend.masters();
    const miss = await clientCommands(masters, async () => {
      expect(await a.fetch('rt-key', ContentType.AI_RESPONSE, () => 'answer')).toMatchObject({ source: 'compute' });
    });
    expect(miss).toEqual({ script: 2 });
    const l2Hit = await clientCommands(masters, async () => {
      expect(await b.fetch('rt-key', ContentType.AI_RESPONSE, () => 'never')).toMatchObject({ source: 'l2', value: 'answer' });
    });
    expect(l2Hit).toEqual({ script: 1 });
    const l1Hit = await clientCommands(masters, async () => {
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

  it("sends one tick's reads as one MGET per bucket, and a lone read as one GET", async () => {
    const [absent, ...first] = keysInOneBucket('batch-a', 5) as [string, ...string[]]; // absent: never written
    const second = keysInOneBucket('batch-b', 3);
    for (const key of [...first, ...second]) await a.set(key, `value of ${key}`, ContentType.CONFIGURATION);
    const reader = await env.caches.make({});
    const keys = [...first, absent, ...second];
    let values: unknown[] = [];
    const batched = await clientCommands(env.backend.masters(), async () => {
      values = await Promise.all(keys.map((key) => reader.get(key, ContentType.CONFIGURATION)));
    });
    expect(values).toEqual(keys.map((key) => (key === absent ? undefined : `value of ${key}`)));
    // One Redis takes every key in one command; a cluster, one per bucket (a command's keys share a slot).
    expect(batched).toEqual({ mget: env.backend.masters().length > 1 ? 2 : 1 });
    await a.set('batch-lone', 'alone', ContentType.CONFIGURATION);
    const lone = await clientCommands(env.backend.masters(), async () => {
      expect(await reader.get('batch-lone', ContentType.CONFIGURATION)).toBe('alone');
    });
    expect(lone).toEqual({ get: 1 });
  });

  it("sends one tick's misses as one call of each script per bucket", async () => {
    const keys = [...keysInOneBucket('miss-a', 4), ...keysInOneBucket('miss-b', 3)];
    let values: unknown[] = [];
    const misses = await clientCommands(env.backend.masters(), async () => {
      values = await Promise.all(keys.map((key) => a.fetch(key, ContentType.CONFIGURATION, () => `computed ${key}`)));
    });
    expect(values.map((v) => (v as { source: string }).source)).toEqual(keys.map(() => 'compute'));
    // Read-or-lock, then write-and-unlock: one call of each on one Redis, per bucket on a cluster.
    expect(misses).toEqual({ script: env.backend.masters().length > 1 ? 4 : 2 });
    for (const key of keys) expect(await b.get(key, ContentType.CONFIGURATION)).toBe(`computed ${key}`);
  });

  it("keeps each miss's Redis error its own within a shared call", async () => {
    const [poisoned, ...others] = keysInOneBucket('miss-own', 3) as [string, ...string[]];
    // Another writer's list where the poisoned key's value would be: its GET is refused (WRONGTYPE).
    await env.backend.raw.lpush(createKeyLayout('teddy:').entry(ContentType.CONFIGURATION, poisoned).l2Key, 'not ours');
    const before = a.getPerformanceMetrics().layers.l2.errors;
    const values = await Promise.all([poisoned, ...others].map((key) => a.fetch(key, ContentType.CONFIGURATION, () => `computed ${key}`)));
    expect(values.map((v) => v.value)).toEqual([poisoned, ...others].map((key) => `computed ${key}`));
    // Only the poisoned key's read failed; the others took their locks and wrote in the same calls.
    expect(a.getPerformanceMetrics().layers.l2.errors - before).toBe(1);
    for (const key of [poisoned, ...others]) expect(await b.get(key, ContentType.CONFIGURATION)).toBe(`computed ${key}`);
  });

  it('a write held for its shared call still reaches Redis before a change made after it', async () => {
    const behind = await env.caches.make({ asyncWriteEnabled: true });
    for (let i = 0; i < 5; i++) {
      const key = `ordered-${i}`;
      // Written behind: the fetch returns while its write waits for the end of the tick, and the delete comes in the same tick.
      expect(await behind.fetch(key, ContentType.CONFIGURATION, () => 'gone soon')).toMatchObject({ source: 'compute' });
      await behind.delete(key, ContentType.CONFIGURATION);
      expect(await b.get(key, ContentType.CONFIGURATION)).toBeUndefined();
    }
  });

  it("sends a large tick's reads in MGETs of 8 keys", async () => {
    const keys = keysInOneBucket('batch-many', 300);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => a.set(key, key.length, ContentType.CONFIGURATION)));
    const reader = await env.caches.make({});
    let values: unknown[] = [];
    const commands = await clientCommands(env.backend.masters(), async () => {
      values = await Promise.all(keys.map((key) => reader.get(key, ContentType.CONFIGURATION)));
    });
    expect(values).toEqual(keys.map((key) => key.length));
    expect(commands).toEqual({ mget: 38 }); // 37 × 8 + 4, all of one bucket
  });
});

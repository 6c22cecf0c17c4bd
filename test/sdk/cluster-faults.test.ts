/**
 * L2 on a real Redis Cluster (3 masters + 3 replicas) when the cluster
 * misbehaves: the design's premise (SPUBLISH inside a script, sharded
 * delivery), a slot bounced between masters (MOVED loop), a migrating slot
 * nobody imports (ASK loop), a master answering CLUSTERDOWN, and a master
 * SIGKILLed while two instances are busy. In each, no caller sees an error,
 * and L2 is used again by itself once the cluster is whole. The kill runs
 * last: it leaves one master without a replica.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../../infra/redis-cluster.js';
import { ContentType, type MultiLayerCache } from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { testCaches, type TestCaches } from '../helpers/cache.js';
import { keysInBucketOf } from '../helpers/l2-backends.js';

const layout = createKeyLayout('teddy:');
const TYPE = ContentType.AI_RESPONSE;
const l2KeyOf = (key: string) => layout.entry(TYPE, key).l2Key;

let cluster: RedisCluster;
let caches: TestCaches;
const admins = new Map<string, Redis>();

beforeAll(async () => {
  cluster = await startRedisCluster();
  caches = await testCaches({ l2ClusterNodes: [...cluster.urls] });
});
afterAll(async () => {
  for (const r of admins.values()) r.disconnect();
  await caches?.closeAll();
  await cluster?.stop();
});

/** A plain connection to one node (no cluster routing), for CLUSTER commands. */
function node(hostPort: string): Redis {
  let r = admins.get(hostPort);
  if (!r) {
    r = new Redis(Number(hostPort.split(':')[1]), '127.0.0.1');
    r.on('error', () => undefined); // the master this file kills
    admins.set(hostPort, r);
  }
  return r;
}

interface SlotOwner {
  readonly slot: number;
  readonly owner: string;
  readonly ownerId: string;
  /** Another master, and its id. */
  readonly other: string;
  readonly otherId: string;
}

async function slotOwner(key: string): Promise<SlotOwner> {
  const any = node(cluster.nodes[0]!);
  const slot = (await any.cluster('KEYSLOT', key)) as number;
  const lines = ((await any.cluster('NODES')) as string).trim().split('\n').map((l) => l.split(' '));
  const masters = lines.filter((f) => f[2]!.includes('master') && !f[2]!.includes('fail') && f.length > 8);
  const owns = (f: string[]) => f.slice(8).some((r) => {
    const [lo, hi = lo] = r.split('-').map(Number);
    return slot >= lo! && slot <= hi!;
  });
  const owner = masters.find(owns)!;
  const other = masters.find((f) => f !== owner)!;
  const addr = (f: string[]) => f[1]!.split('@')[0]!;
  return { slot, owner: addr(owner), ownerId: owner[0]!, other: addr(other), otherId: other[0]! };
}

/**
 * Runs calls on keys of one bucket while `fault` holds: every call is answered (by compute), none
 * throws, and the breaker opens; after `repair`, an L2 write and a second instance's L2 hit work again.
 */
async function expectFaultAbsorbed(seed: string, fault: (o: SlotOwner) => Promise<void>, repair: (o: SlotOwner) => Promise<void>): Promise<void> {
  const [probe, ...keys] = keysInBucketOf(seed, 6);
  const a = await caches.make({ breakerFailureThreshold: 3 });
  const o = await slotOwner(l2KeyOf(probe!));
  expect(await node(o.owner).cluster('COUNTKEYSINSLOT', o.slot)).toBe(0); // a fresh slot: nothing to migrate
  await fault(o);
  try {
    for (let i = 0; i < 30; i++) {
      expect(await a.getWithFallback(keys[i % keys.length]!, TYPE, async () => `computed ${i}`)).toMatch(/^computed/);
    }
    expect(a.getPerformanceMetrics().l2Errors).toBeGreaterThan(0);
    expect(a.getPerformanceMetrics().breakerState).not.toBe('closed');
  } finally {
    await repair(o);
  }
  await vi.waitFor(
    async () => {
      await a.set(probe!, 'after repair', TYPE);
      expect(a.getPerformanceMetrics().breakerState).toBe('closed');
    },
    { timeout: 10_000, interval: 100 },
  );
  const b = await caches.make();
  expect(await b.fetch(probe!, TYPE, async () => 'recomputed')).toEqual({ value: 'after repair', source: 'l2' });
}

describe('L2 on a Redis Cluster when the cluster misbehaves', () => {
  it('Redis runs SPUBLISH inside a script for a channel of the script\'s slot, and refuses one of another master\'s slot', async () => {
    const [key] = keysInBucketOf('spublish', 1);
    const { l2Key, channel } = layout.entry(TYPE, key!);
    const o = await slotOwner(l2Key);
    const sub = new Redis(Number(o.owner.split(':')[1]), '127.0.0.1');
    const got = new Promise<string>((resolve) => sub.on('smessage', (_c: string, m: string) => resolve(m)));
    await sub.ssubscribe(channel);
    const script = "redis.call('SET', KEYS[1], 'v'); return redis.call('SPUBLISH', ARGV[1], ARGV[2])";
    expect(await node(o.owner).eval(script, 1, l2Key, channel, 'hello')).toBe(1);
    expect(await got).toBe('hello');
    // A channel in a slot the script's node does not serve: refused, so the layout must keep them together.
    let foreign: string | undefined;
    for (const c of layout.channels) {
      if ((await slotOwner(c)).owner !== o.owner) {
        foreign = c;
        break;
      }
    }
    await expect(node(o.owner).eval(script, 1, l2Key, foreign!, 'x')).rejects.toThrow(/non local key/);
    sub.disconnect();
  });

  it('announces a change only on the shard holding the key (sharded pub/sub), never on every node', async () => {
    const a = await caches.make({ asyncWriteEnabled: false });
    const b = await caches.make();
    const [key] = keysInBucketOf('sharded', 1);
    const o = await slotOwner(l2KeyOf(key!));
    const stats = async () =>
      Object.fromEntries(
        await Promise.all(
          cluster.nodes.map(async (n) => {
            const info = (await node(n).cluster('INFO')) as string;
            const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? 0);
            return [n, { publish: field('cluster_stats_messages_publish_sent'), shard: field('cluster_stats_messages_publishshard_sent') }] as const;
          }),
        ),
      );
    await a.set(key!, 'v0', TYPE);
    expect(await b.fetch(key!, TYPE, async () => 'x')).toMatchObject({ source: 'l2' });
    const before = await stats();
    for (let i = 1; i <= 5; i++) await a.set(key!, `v${i}`, TYPE);
    await vi.waitFor(async () => expect(await b.get(key!, TYPE)).toBe('v5'), { timeout: 2000, interval: 10 });
    const after = await stats();
    for (const n of cluster.nodes) {
      expect(after[n]!.publish - before[n]!.publish).toBe(0); // no classic PUBLISH, which the cluster bus floods to every node
      // Only the owning master forwards shard messages (to its own replica); the others' shard counters do not move.
      if (n !== o.owner) expect(after[n]!.shard - before[n]!.shard).toBe(0);
    }
    expect(after[o.owner]!.shard - before[o.owner]!.shard).toBeGreaterThanOrEqual(5);
  });

  it('a slot bounced between two masters (a MOVED loop) is an L2 failure: answered, breaker open, L2 back once repaired', async () => {
    await expectFaultAbsorbed(
      'moved',
      // The owner now says another master has the slot; that master (like the rest) says the owner has it.
      (o) => node(o.owner).cluster('SETSLOT', o.slot, 'NODE', o.otherId).then(() => undefined),
      (o) => node(o.owner).cluster('SETSLOT', o.slot, 'NODE', o.ownerId).then(() => undefined),
    );
  });

  it('a slot migrating to a master that does not import it (an ASK loop) is an L2 failure handled the same way', async () => {
    await expectFaultAbsorbed(
      'ask',
      (o) => node(o.owner).cluster('SETSLOT', o.slot, 'MIGRATING', o.otherId).then(() => undefined),
      (o) => node(o.owner).cluster('SETSLOT', o.slot, 'STABLE').then(() => undefined),
    );
  });

  it('a master answering CLUSTERDOWN is an L2 failure handled the same way', async () => {
    await expectFaultAbsorbed(
      'clusterdown',
      // Without one of its slots, the owner no longer sees full coverage and answers CLUSTERDOWN to every command.
      async (o) => {
        await node(o.owner).cluster('DELSLOTS', o.slot);
        await vi.waitFor(async () => expect(await node(o.owner).cluster('INFO')).toMatch(/cluster_state:fail/), { timeout: 5000, interval: 50 });
      },
      async (o) => {
        await node(o.owner).cluster('ADDSLOTS', o.slot);
        await cluster.waitHealthy();
      },
    );
  });

  it('SIGKILL of a master while two instances are busy: no caller sees an error, and L2 hits and invalidations resume once its replica is promoted', async () => {
    const a = await caches.make();
    const b = await caches.make();
    const keys = Array.from({ length: 300 }, (_, i) => `busy-${i}`);
    for (const k of keys) await a.set(k, `v ${k}`, TYPE);
    const [victim, ...victimKeys] = keysInBucketOf('victim', 4);
    for (const k of [victim!, ...victimKeys]) await a.set(k, `v ${k}`, TYPE);

    const errors: unknown[] = [];
    let running = true;
    let calls = 0;
    const load = async (cache: MultiLayerCache, offset: number) => {
      for (let i = offset; running; i++) {
        const k = i % 3 === 0 ? victimKeys[i % victimKeys.length]! : keys[(i * 7) % keys.length]!;
        try {
          await (i % 2 ? cache.get(k, TYPE) : cache.getWithFallback(`fresh-${offset}-${i}`, TYPE, async () => 'computed'));
          calls += 1;
        } catch (err) {
          errors.push(err);
        }
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    };
    const loops = [load(a, 0), load(b, 1)];
    await new Promise((r) => setTimeout(r, 200));
    const killed = await cluster.killMaster({ key: l2KeyOf(victim!) });
    await cluster.waitHealthy();
    expect((await slotOwner(l2KeyOf(victim!))).owner).not.toBe(killed); // its replica serves the slot now
    const callsAtPromotion = calls;
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(loops);
    expect(errors).toEqual([]);
    expect(calls).toBeGreaterThan(callsAtPromotion);

    // L2 again, by itself: a write on A, on the promoted master, is a fresh instance's L2 hit.
    await vi.waitFor(
      async () => {
        await a.set(victim!, 'after failover', TYPE);
        expect(a.getPerformanceMetrics().breakerState).toBe('closed');
        const c = await caches.make();
        expect(await c.fetch(victim!, TYPE, async () => 'recomputed')).toEqual({ value: 'after failover', source: 'l2' });
      },
      { timeout: 15_000, interval: 200 },
    );
    // And the bus: B's subscription moved to the promoted master, so A's next write drops B's copy.
    await vi.waitFor(async () => expect(await b.fetch(victim!, TYPE, async () => 'x')).toMatchObject({ value: 'after failover' }), { timeout: 10_000, interval: 100 });
    await vi.waitFor(
      async () => {
        const next = `again ${Date.now()}`;
        await a.set(victim!, next, TYPE);
        await vi.waitFor(async () => expect(await b.get(victim!, TYPE)).toBe(next), { timeout: 500, interval: 10 });
      },
      { timeout: 15_000, interval: 200 },
    );
  });
});

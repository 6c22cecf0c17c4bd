/**
 * The SDK's L2 hit on a real 3+3 Redis Cluster against a bare ioredis
 * `Cluster` `getBuffer` of the very records the cache wrote: mean latency,
 * one read at a time, a second instance reading what a first one wrote (its
 * L1 misses), median of interleaved rounds. `npm run bench:sdk` shows it
 * beside the one-Redis rows; `npm run bench:gateway` holds it with the other
 * scale-out figures of the same run. Starts its own cluster and stops it.
 */
import { Cluster } from 'ioredis';
import { startRedisCluster } from '../infra/redis-cluster.js';
import type * as Sdk from '../sdk/index.js';
import { createKeyLayout } from '../sdk/key-layout.js';
import { fill, rounds, sequential } from './timing.js';

export interface ClusterL2Hit {
  /** Mean µs per L2 hit through the SDK. */
  readonly oursUs: number;
  /** Mean µs per bare Cluster getBuffer of the same records. */
  readonly bareGetBufferUs: number;
}

const PREFIX = 'bcl:';
const VALUE = { reply: 'Honey is sticky and sweet, and bears love it.', clip: 'a1b2c3d4e5f60718', n: 42 };

/** `sdk`: the SDK as the caller measures it (bench:sdk passes the published build). */
export async function measureClusterL2Hit(sdk: typeof Sdk, { roundCount, reads, dataDir }: { roundCount: number; reads: number; dataDir: string }): Promise<ClusterL2Hit> {
  const type = sdk.ContentType.CONFIGURATION;
  const cluster = await startRedisCluster();
  const opened: { close(): Promise<unknown> }[] = [];
  try {
    const config = { l2ClusterNodes: [...cluster.urls], dataDir, keyPrefix: PREFIX, logger: { warn: () => {}, error: () => {} } };
    const writer = await sdk.createCache(config);
    opened.push(writer);
    const reader = await sdk.createCache(config);
    opened.push(reader);
    const raw = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    opened.push({ close: async () => raw.disconnect() });
    // Round 0 warms both up (the JIT, the node connections) and is not counted.
    const keys = Array.from({ length: roundCount + 1 }, (_, r) => Array.from({ length: reads }, (_, i) => `cluster-r${r}-k${i}`));
    for (const round of keys) await fill(round, (k) => writer.set(k, VALUE, type));
    const layout = createKeyLayout(PREFIX);
    const redisKeys = keys.map((round) => round.map((k) => layout.entry(type, k).l2Key));
    await sequential(reads, (i) => reader.get(keys[0]![i]!, type));
    await sequential(reads, (i) => raw.getBuffer(redisKeys[0]![i]!));
    const meanUs = (op: (i: number) => Promise<unknown>) => sequential(reads, op).then((x) => x.meanUs);
    const latency = await rounds(roundCount, {
      ours: (r) => meanUs((i) => reader.get(keys[r + 1]![i]!, type)),
      bare: (r) => meanUs((i) => raw.getBuffer(redisKeys[r + 1]![i]!)),
    });
    const hits = reader.getPerformanceMetrics().layers.l2.hits;
    if (hits < reads * (roundCount + 1)) throw new Error(`cluster L2 bench: only ${hits} L2 hits`);
    return { oursUs: latency.ours, bareGetBufferUs: latency.bare };
  } finally {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    await cluster.stop();
  }
}

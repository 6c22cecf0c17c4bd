/**
 * The L2s the SDK's behaviour tests run on, with the same test code: one
 * redis-server, and a real 3-master + 3-replica Redis Cluster
 * (infra/redis-cluster.ts). A suite is written once against L2Backend and
 * run on each with describe.each(L2_BACKENDS).
 */
import { Cluster, Redis } from 'ioredis';
import type { CacheConfig } from '../../sdk/index.js';
import { startRedisCluster } from '../../infra/redis-cluster.js';
import { startRedisServer } from '../../infra/redis-server.js';
import { createKeyLayout } from '../../sdk/key-layout.js';

type RawClient = Redis | Cluster;

export interface L2Backend {
  readonly name: string;
  /** The cache config fields that point a cache here. */
  readonly config: Partial<CacheConfig>;
  /** A plain ioredis client on it (routing by slot on the cluster). */
  readonly raw: RawClient;
  /** Every key, string value and set member on every master, concatenated (for dumps at rest). */
  dump(): Promise<Buffer>;
  /** A plain connection to each master (the one Redis, or every cluster master). */
  masters(): Redis[];
  /** SIGKILLs the server holding this Redis key: the one Redis, or the cluster master serving its slot. */
  kill(l2Key: string): Promise<void>;
  /** Brings that key's L2 back: the Redis is restarted; on the cluster, its replica is promoted (waited for). */
  recover(): Promise<void>;
  stop(): Promise<void>;
}

export interface L2BackendKind {
  readonly name: string;
  start(): Promise<L2Backend>;
}

async function dumpNode(node: Redis): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for (const k of await node.keysBuffer('*')) {
    parts.push(k);
    const type = await node.type(k);
    if (type === 'string') parts.push((await node.getBuffer(k)) ?? Buffer.alloc(0));
    if (type === 'set') parts.push(...(await node.smembersBuffer(k)));
  }
  return parts;
}

export const ONE_REDIS: L2BackendKind = {
  name: 'one Redis',
  async start() {
    const server = await startRedisServer();
    const raw = new Redis(server.url);
    return {
      name: 'one Redis',
      config: { l2RedisUrl: server.url },
      raw,
      dump: async () => Buffer.concat(await dumpNode(raw)),
      masters: () => [raw],
      kill: () => server.kill(),
      recover: () => server.restart(),
      async stop() {
        raw.disconnect();
        await server.stop();
      },
    };
  },
};

export const REDIS_CLUSTER: L2BackendKind = {
  name: 'Redis Cluster 3+3',
  async start() {
    const cluster = await startRedisCluster();
    const raw = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    await new Promise<void>((resolve, reject) => {
      raw.once('ready', resolve);
      raw.once('error', reject);
    });
    return {
      name: 'Redis Cluster 3+3',
      config: { l2ClusterNodes: [...cluster.urls] },
      raw,
      dump: async () => Buffer.concat((await Promise.all(raw.nodes('master').map(dumpNode))).flat()),
      masters: () => raw.nodes('master'),
      async kill(l2Key) {
        await cluster.killMaster({ key: l2Key });
      },
      recover: () => cluster.waitHealthy(),
      async stop() {
        raw.disconnect();
        await cluster.stop();
      },
    };
  },
};

export const L2_BACKENDS: readonly L2BackendKind[] = [ONE_REDIS, REDIS_CLUSTER];

/**
 * `n` keys that share the hash-tag bucket (so, on a cluster, the slot and the master) of `seed`:
 * a test that takes one server down can keep all its traffic on it.
 */
export function keysInBucketOf(seed: string, n: number): string[] {
  const bucket = (key: string) => createKeyLayout('').entry('t', key).channel;
  const keys: string[] = [];
  for (let i = 0; keys.length < n; i++) if (bucket(`${seed}-${i}`) === bucket(seed)) keys.push(`${seed}-${i}`);
  return keys;
}

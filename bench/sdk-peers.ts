/**
 * The peer caches `npm run bench:sdk` measures the SDK against, each set up
 * for L1 memory + L2 Redis as its own documentation recommends, on the same
 * Redis as ours:
 *   - BentoCache 1.6: `bentostore().useL1Layer(memoryDriver({ maxSize }))
 *     .useL2Layer(redisDriver(…)).useBus(redisBusDriver(…))` (its multi-tier page);
 *   - cache-manager 7: `createCache({ stores: [new Keyv({ store: new LRUCache(…) }),
 *     new Keyv({ store: new KeyvRedis(url) })] })` (its README's lru-cache L1 and
 *     @keyv/redis L2; it has no bus).
 * Each is driven through the same small interface, so one loop measures all.
 */
import KeyvRedis from '@keyv/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';

export interface PeerCache {
  readonly name: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  /** Their read-through: the value, or `compute`'s result stored on a miss. */
  getOrCompute(key: string, compute: () => unknown): Promise<unknown>;
  close(): Promise<void>;
}

const TTL_MS = 10 * 60_000;

export function bentoPeer(redisPort: number, prefix: string): PeerCache {
  const connection = { host: '127.0.0.1', port: redisPort };
  const bento = new BentoCache({
    default: 'multitier',
    prefix,
    ttl: TTL_MS,
    stores: {
      multitier: bentostore()
        .useL1Layer(memoryDriver({ maxSize: '64mb' }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
  return {
    name: 'BentoCache 1.6',
    get: (key) => bento.get({ key }),
    set: (key, value) => bento.set({ key, value }).then(() => undefined),
    getOrCompute: (key, compute) => bento.getOrSet({ key, factory: compute }),
    close: () => bento.disconnect(),
  };
}

export function cacheManagerPeer(redisUrl: string, namespace: string): PeerCache {
  const cache = createCache({
    ttl: TTL_MS,
    stores: [new Keyv({ store: new LRUCache<string, string | object>({ max: 50_000 }) }), new Keyv({ store: new KeyvRedis(redisUrl), namespace })],
  });
  return {
    name: 'cache-manager 7',
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value).then(() => undefined),
    getOrCompute: (key, compute) => cache.wrap(key, compute),
    close: () => cache.disconnect().then(() => undefined),
  };
}

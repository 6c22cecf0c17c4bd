/** Caches for tests: a real Redis or Redis Cluster, a temporary data dir, fast breaker timings, no log noise. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createCache, type CacheConfig, type MultiLayerCache } from '../../sdk/index.js';
import type { L2Backend, L2BackendKind } from './l2-backends.js';
import { startRedis, type RedisHandle } from './redis.js';

export const TEST_KEYS = { k1: Buffer.alloc(32, 1).toString('base64') };

export interface TestCaches {
  make(config?: Partial<CacheConfig>): Promise<MultiLayerCache>;
  /** Warnings the caches logged. */
  readonly warnings: string[];
  closeAll(): Promise<void>;
}

/** `l2`: the config fields naming the Redis (an L2Backend's `config`). */
export async function testCaches(l2: Partial<CacheConfig>): Promise<TestCaches> {
  const dir = await mkdtemp(join(tmpdir(), 'teddy-cache-test-'));
  const caches: MultiLayerCache[] = [];
  const warnings: string[] = [];
  const logger = { warn: (_o: object, m?: string) => void warnings.push(m ?? ''), error: (_o: object, m?: string) => void warnings.push(m ?? '') };
  return {
    warnings,
    async make(config = {}) {
      const cache = await createCache({
        ...l2,
        dataDir: dir,
        encryptionKeys: TEST_KEYS,
        breakerResetMs: 300,
        l2TimeoutMs: 300,
        logger,
        ...config,
      });
      caches.push(cache);
      return cache;
    },
    async closeAll() {
      await Promise.all(caches.map((c) => c.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** For a test file: its own Redis and a cache factory on it, started before and stopped after all tests. */
export function useRedisCaches(): { readonly redis: RedisHandle; readonly caches: TestCaches } {
  let redis: RedisHandle | undefined;
  let caches: TestCaches | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    caches = await testCaches({ l2RedisUrl: redis.url });
  });
  afterAll(async () => {
    await caches?.closeAll();
    await redis?.stop();
  });
  return {
    get redis() {
      return redis!;
    },
    get caches() {
      return caches!;
    },
  };
}

/** For a describe block run on each L2 backend: the backend and a cache factory on it, started once for the block. */
export function useL2Caches(kind: L2BackendKind): { readonly backend: L2Backend; readonly caches: TestCaches } {
  let backend: L2Backend | undefined;
  let caches: TestCaches | undefined;
  beforeAll(async () => {
    backend = await kind.start();
    caches = await testCaches(backend.config);
  });
  afterAll(async () => {
    await caches?.closeAll();
    await backend?.stop();
  });
  return {
    get backend() {
      return backend!;
    },
    get caches() {
      return caches!;
    },
  };
}

/** Caches for tests: a real Redis, a temporary data dir, fast breaker timings, no log noise. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCache, type CacheConfig, type MultiLayerCache } from '../../sdk/index.js';

export const TEST_KEYS = { k1: Buffer.alloc(32, 1).toString('base64') };

export interface TestCaches {
  make(config?: Partial<CacheConfig>): Promise<MultiLayerCache>;
  /** Warnings the caches logged. */
  readonly warnings: string[];
  closeAll(): Promise<void>;
}

export async function testCaches(redisUrl: string | undefined): Promise<TestCaches> {
  const dir = await mkdtemp(join(tmpdir(), 'teddy-cache-test-'));
  const caches: MultiLayerCache[] = [];
  const warnings: string[] = [];
  const logger = { warn: (_o: object, m?: string) => void warnings.push(m ?? ''), error: (_o: object, m?: string) => void warnings.push(m ?? '') };
  return {
    warnings,
    async make(config = {}) {
      const cache = await createCache({
        l2RedisUrl: redisUrl,
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

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentType, createCache } from '../../sdk/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'teddy-embedded-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('embedded default', () => {
  it('starts, uses and stops its own redis-server when no Redis is configured', async () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    const cache = await createCache({ dataDir: dir, logger: { warn: () => {}, error: () => {} } });
    if (saved !== undefined) process.env.REDIS_URL = saved;
    const health = await cache.health();
    expect(health.l2).toMatchObject({ enabled: true, embedded: true, connected: true });
    await cache.set('k', 'v', ContentType.CONFIGURATION);
    expect(await cache.get('k', ContentType.CONFIGURATION)).toBe('v');
    await cache.close();
  });

  it('falls back to L1-only with one clear warning when redis-server cannot be started', async () => {
    const savedPath = process.env.PATH;
    const savedUrl = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    process.env.PATH = '/nonexistent';
    const warnings: string[] = [];
    try {
      const cache = await createCache({ dataDir: dir, logger: { warn: (_o, m) => void warnings.push(m ?? ''), error: () => {} } });
      expect(await cache.getWithFallback('k', ContentType.AI_RESPONSE, async () => 'computed')).toBe('computed');
      expect(await cache.get('k', ContentType.AI_RESPONSE)).toBe('computed');
      expect((await cache.health()).l2.enabled).toBe(false);
      await cache.close();
    } finally {
      process.env.PATH = savedPath;
      if (savedUrl !== undefined) process.env.REDIS_URL = savedUrl;
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/L1-only/);
  });
});

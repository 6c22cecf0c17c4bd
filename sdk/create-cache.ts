/**
 * createCache: resolves and checks the whole config first (the TLS CA file
 * included), then brings up each enabled layer and hands back a connected
 * MultiLayerCache. L2 is the Redis or Redis Cluster the config names; with
 * none, it starts an embedded, supervised redis-server under the data dir;
 * if that is impossible it runs L1-only and says so once. If
 * anything fails after a server was started, that server is stopped again:
 * a failed createCache leaves nothing running. It also wires the cache's
 * resilience: events from L2 and its breaker, the auto-recovery queue
 * replayed when Redis is back, the invalidation bus's gap signal, and
 * OpenTelemetry if the application has it.
 */
import { join } from 'node:path';
import { startRedisServer, type RedisServer } from '../infra/redis-server.js';
import { LayeredCache, type MultiLayerCache } from './cache.js';
import { resolveConfig, type CacheConfig } from './config.js';
import { POLICIES } from './content-types.js';
import { createKeyring, dataDirKeyring, type Keyring } from './crypto.js';
import { CacheEvents } from './events.js';
import { startInvalidationBus, type InvalidationBus } from './invalidation-bus.js';
import { createKeyLayout } from './key-layout.js';
import { createL1 } from './l1.js';
import { connectL2, waitReady, type L2 } from './l2.js';
import { renewLock } from './l2-scripts.js';
import { createDirBlobStore } from './l3/dir-blob-store.js';
import { createL3Layer } from './l3/l3-layer.js';
import { lockKeeper } from './lock-keeper.js';
import { CacheMetrics } from './metrics.js';
import { createRecoveryQueue, type RecoveryQueue } from './recovery-queue.js';
import { loadTracing } from './tracing.js';
import { readRedisTlsCa, redisEndpoints, type RedisEndpoints } from './redis-endpoints.js';
import { describeEndpoints } from './redact-url.js';

const CONNECT_WAIT_MS = 5000;

export async function createCache(config: Partial<CacheConfig> = {}): Promise<MultiLayerCache> {
  const cfg = resolveConfig(config);
  // Keys given in the config are checked before anything starts.
  const givenKeyring = cfg.encryptionKeys ? createKeyring(cfg.encryptionKeys, cfg.encryptionKeyId) : undefined;
  const metrics = new CacheMetrics();
  const log = cfg.logger;
  const events = new CacheEvents(log);
  const layout = createKeyLayout(cfg.keyPrefix);
  await loadTracing();
  const tlsCa = cfg.l2Enabled && cfg.l2TlsCaFile !== undefined ? await readRedisTlsCa(cfg.l2TlsCaFile) : undefined;

  let embeddedRedis: RedisServer | undefined;
  let l2: L2 | undefined;
  let bus: InvalidationBus | undefined;
  let recovery: RecoveryQueue | undefined;
  let l2Ready = false;
  try {
    if (cfg.l2Enabled) {
      let endpoints: RedisEndpoints | undefined = redisEndpoints(cfg.l2RedisUrl, cfg.l2ClusterNodes, cfg.l2TlsCaFile);
      if (endpoints === undefined) {
        // The embedded default is a child on loopback: no TLS (nothing leaves the host; see docs/sdk.md).
        try {
          embeddedRedis = await startRedisServer({
            dataDir: join(cfg.dataDir, 'redis'),
            supervise: true,
            onRestart: (err) => (err ? log.error({ err: err.message }, 'embedded redis-server is down') : log.warn({}, 'embedded redis-server restarted')),
          });
          endpoints = { mode: 'single', url: embeddedRedis.url, tls: false };
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'no Redis configured and redis-server could not be started: running L1-only (set REDIS_URL or install redis-server)');
        }
      }
      if (endpoints !== undefined) {
        const where = describeEndpoints(endpoints);
        l2 = connectL2(endpoints, tlsCa, cfg, {
          onError: (err, kind) =>
            kind === 'tls'
              ? log.error({ redis: where, err: err.message }, 'Redis TLS certificate refused (check l2TlsCaFile / REDIS_TLS_CA); serving from L1 and compute')
              : log.warn({ redis: where, err: err.message }, 'Redis connection error; serving from L1 and compute until it is back'),
          onBreaker: (state) => {
            log.warn({ breaker: state }, 'L2 circuit breaker changed state');
            events.emit('breaker', { state });
            if (state === 'closed') void recovery?.replay();
          },
          onCallError: (error) => events.emit('l2-error', { error }),
        });
        const queue = createRecoveryQueue({
          maxItems: cfg.autoRecoveryMaxItems, maxBytes: cfg.autoRecoveryMaxMb * 1024 * 1024, retryMs: cfg.breakerResetMs, logger: log,
        });
        recovery = queue;
        l2.client.on('ready', () => void queue.replay());
        l2Ready = await waitReady(l2.client, CONNECT_WAIT_MS);
        if (!l2Ready) log.warn({ redis: where }, 'Redis not reachable yet; serving from L1 and compute, reconnecting in the background');
      }
    }

    const needsKeys = Object.values(POLICIES).some((p) => p.encrypt) && l2 !== undefined;
    let keyring: Keyring | undefined = givenKeyring;
    if (!keyring && needsKeys) keyring = await dataDirKeyring(cfg.dataDir);

    let cache: LayeredCache | undefined;
    // Not reachable yet: the subscriptions are made when it is, without holding up the start again.
    if (l2) {
      bus = await startInvalidationBus({
        l2,
        channels: layout.channels,
        waitMs: l2Ready ? CONNECT_WAIT_MS : 0,
        onKeys: (keys) => cache?.dropFromL1(keys),
        onGap: () => cache?.busGap(),
        logger: log,
      });
    }

    const l3 = cfg.l3Enabled ? createL3Layer(cfg.blobStore ?? createDirBlobStore(join(cfg.dataDir, 'blobs')), join(cfg.dataDir, 'l3-refs')) : undefined;
    const l1 = cfg.l1Enabled ? createL1(cfg.l1MaxSizeMb * 1024 * 1024, () => (metrics.evictions += 1)) : undefined;

    // Locks are taken in L2 only, so only with an L2 is there one to renew.
    const locks = lockKeeper(cfg.lockLeaseMs, (lockKey, token) => void l2?.call((c) => renewLock(c, lockKey, token, cfg.lockLeaseMs)));

    cache = new LayeredCache({
      config: cfg, layout, l1, l2, bus, l3, keyring, embeddedRedis, metrics, events, recovery, refreshing: new Set(), locks, coherence: { epoch: 0 },
    });
    return cache;
  } catch (err) {
    recovery?.close();
    await bus?.close();
    await l2?.close();
    await embeddedRedis?.stop();
    throw err;
  }
}

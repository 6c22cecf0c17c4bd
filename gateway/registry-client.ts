/**
 * The device registry for a process that is not a gateway: the CLI's
 * `device add|remove|list`, which work whether or not a gateway is running.
 * It uses the fleet's configured Redis (--redis-url, REDIS_URL, or a cluster: --redis-cluster-nodes,
 * REDIS_CLUSTER_NODES), else the
 * data dir's embedded one — the running one if a gateway (or another CLI)
 * has it up, else started for the command and stopped after. Changes are
 * announced on the control channel like a gateway's, so running gateways
 * drop (or disconnect) a changed bear. An old devices.json is migrated first.
 */
import type { Logger } from 'pino';
import { findEmbeddedRedis, startEmbeddedRedis } from '../infra/embedded-redis.js';
import type { RedisServer } from '../infra/redis-server.js';
import { resolveConfig, type CacheConfig } from '../sdk/index.js';
import { publishControl } from './control-bus.js';
import { migrateDeviceFile } from './device-file-migration.js';
import { createDeviceRegistry, type DeviceRegistry } from './device-registry.js';
import { fleetKeys, type FleetKeys } from './fleet-keys.js';
import { connectFleetRedis, type FleetClient } from './fleet-redis.js';
import { fleetRedisTarget } from './fleet-target.js';

const CONNECT_WAIT_MS = 5000;

export interface RegistryLocation {
  dataDir?: string;
  redisUrl?: string;
  redisClusterNodes?: string[];
}

/** The fleet's Redis as a command run on the data dir sees it. */
export interface FleetHandle {
  readonly client: FleetClient;
  readonly keys: FleetKeys;
  /** The SDK configuration naming the same Redis (the embedded one's URL filled in). */
  readonly cacheConfig: CacheConfig;
}

/** Runs `use` with the fleet's Redis (the configured one, else the data dir's embedded one) and releases what it opened (or started). */
export async function withFleetRedis<T>(where: RegistryLocation, log: Logger, use: (fleet: FleetHandle) => Promise<T>): Promise<T> {
  let config = resolveConfig({ dataDir: where.dataDir, l2RedisUrl: where.redisUrl, l2ClusterNodes: where.redisClusterNodes });
  let brief: RedisServer | undefined;
  let target = await fleetRedisTarget(config);
  if (!target) {
    const url = (await findEmbeddedRedis(config.dataDir)) ?? (brief = await startEmbeddedRedis(config.dataDir, { supervise: false })).url;
    target = { endpoints: { mode: 'single', url, tls: false }, label: `embedded redis of ${config.dataDir}` };
    config = { ...config, l2RedisUrl: url };
  }
  // Its connection log speaks for a gateway ("connected bears keep being answered"); a command says what failed itself, below.
  const redis = connectFleetRedis(target, log.child({}, { level: 'silent' }));
  try {
    if (!(await redis.ready(CONNECT_WAIT_MS))) throw new Error(`cannot reach the fleet Redis (${target.label}) within ${CONNECT_WAIT_MS / 1000} s`);
    return await use({ client: redis.client, keys: fleetKeys(config.keyPrefix), cacheConfig: config });
  } finally {
    await redis.close();
    await brief?.stop();
  }
}

/** Runs `use` against the fleet's registry and releases what it opened (or started). */
export async function withDeviceRegistry<T>(where: RegistryLocation, log: Logger, use: (registry: DeviceRegistry) => Promise<T>): Promise<T> {
  return withFleetRedis(where, log, async ({ client, keys, cacheConfig: config }) => {
    const registry = createDeviceRegistry({
      client,
      keys,
      announce: (change) => publishControl(client, keys.broadcast, { kind: 'device', from: 'cli', body: change }),
    });
    const migrated = await migrateDeviceFile(config.dataDir, registry);
    if (migrated) log.warn(migrated, 'devices.json migrated into the fleet registry in Redis (file renamed, not deleted)');
    return use(registry);
  });
}

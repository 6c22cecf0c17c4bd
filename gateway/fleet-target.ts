/**
 * Where the fleet state lives: the Redis (or Redis Cluster) the SDK's
 * configuration names for L2 — one store for the cache and the fleet, so a
 * deployment configures Redis once (REDIS_URL, REDIS_CLUSTER_NODES,
 * REDIS_TLS_CA). Undefined when none is configured: the gateway then starts
 * the data dir's embedded one.
 */
import { readRedisTlsCa, redactUrl, redisEndpoints, type CacheConfig } from '../sdk/index.js';
import type { FleetRedisTarget } from './fleet-redis.js';

/** True when the configuration names a Redis (else the data dir's embedded one is used). */
export function namesRedis(config: CacheConfig): boolean {
  return redisEndpoints(config.l2RedisUrl, config.l2ClusterNodes, config.l2TlsCaFile) !== undefined;
}

export async function fleetRedisTarget(config: CacheConfig): Promise<FleetRedisTarget | undefined> {
  const endpoints = redisEndpoints(config.l2RedisUrl, config.l2ClusterNodes, config.l2TlsCaFile);
  if (!endpoints) return undefined;
  const label = endpoints.mode === 'single'
    ? redactUrl(endpoints.url)
    : `cluster ${endpoints.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  return { endpoints, ca: config.l2TlsCaFile ? await readRedisTlsCa(config.l2TlsCaFile) : undefined, label };
}

/**
 * Where the fleet state lives: the Redis (or Redis Cluster) the SDK's
 * configuration names for L2 — one store for the cache and the fleet, so a
 * deployment configures Redis once (REDIS_URL / --redis-url). Undefined when
 * none is configured: the gateway then starts the data dir's embedded one.
 */
import { redactUrl, type CacheConfig } from '../sdk/index.js';
import type { FleetRedisTarget } from './fleet-redis.js';

export function fleetRedisTarget(config: CacheConfig): FleetRedisTarget | undefined {
  if (config.l2RedisUrl) return { url: config.l2RedisUrl, label: redactUrl(config.l2RedisUrl) };
  return undefined;
}

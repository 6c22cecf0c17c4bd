/** A real redis-server per test file, on a free port, that a test may kill and restart. */
import { startRedisServer, type RedisServer } from '../../infra/redis-server.js';

export type RedisHandle = RedisServer;

export function startRedis(): Promise<RedisHandle> {
  return startRedisServer();
}

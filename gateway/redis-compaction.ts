/**
 * After an erase, the deleted keys still sit in every copy Redis keeps on
 * disk, its append-only file and its snapshot, until those are rewritten.
 * So every server holding the data is asked to rewrite both (BGREWRITEAOF,
 * BGSAVE SCHEDULE): the one Redis or each cluster master, and each of their
 * replicas, which keep their own files. A cluster client holds connections to
 * the masters only, so replicas are found in each server's INFO replication
 * and reached on a connection of their own, with the client's options (TLS,
 * credentials). What a server refuses is logged and the erase goes on.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { FleetClient } from './fleet-redis.js';

/** How long reaching one replica may take before it is logged as not rewritten. */
const REPLICA_CONNECT_MS = 2000;

export async function compactRedis(client: FleetClient, log: Logger): Promise<void> {
  const primaries = client instanceof Cluster ? client.nodes('master') : [client];
  const options: RedisOptions = client instanceof Cluster ? (client.options.redisOptions ?? {}) : client.options;
  await Promise.all(
    primaries.map(async (server) => {
      // A cluster client opens a node's connection on first use, which a client without an offline queue refuses.
      if (server.status === 'wait') await server.connect().catch(() => undefined);
      await rewrite(server, log);
      for (const replica of await replicasOf(server, log)) await rewriteReplica(replica, options, log);
    }),
  );
}

async function rewrite(server: Redis, log: Logger): Promise<void> {
  const where = `${server.options.host}:${server.options.port}`;
  await server.call('BGREWRITEAOF').catch((err: Error) => log.warn({ redis: where, err: err.message }, 'erase: BGREWRITEAOF refused'));
  await server.call('BGSAVE', 'SCHEDULE').catch((err: Error) => log.warn({ redis: where, err: err.message }, 'erase: BGSAVE refused'));
}

/** The replicas a server reports (`slaveN:ip=…,port=…` lines of INFO replication). */
async function replicasOf(server: Redis, log: Logger): Promise<{ host: string; port: number }[]> {
  try {
    const info = await server.info('replication');
    return [...info.matchAll(/^slave\d+:ip=([^,]+),port=(\d+)/gm)].map((m) => ({ host: m[1]!, port: Number(m[2]) }));
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'erase: could not list the replicas; rewrite their append-only files yourself');
    return [];
  }
}

async function rewriteReplica(at: { host: string; port: number }, options: RedisOptions, log: Logger): Promise<void> {
  const replica = new Redis({
    ...options,
    host: at.host,
    port: at.port,
    lazyConnect: true,
    connectTimeout: REPLICA_CONNECT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null, // one attempt: an erase does not wait on an unreachable replica
  });
  replica.on('error', () => undefined); // reported below, once
  try {
    await replica.connect();
    await rewrite(replica, log);
  } catch (err) {
    log.warn({ redis: `${at.host}:${at.port}`, err: (err as Error).message }, 'erase: replica not reached; rewrite its append-only file yourself');
  } finally {
    replica.disconnect();
  }
}

/**
 * The gateway's own connections to the Redis that holds the fleet state (the
 * same Redis, or Redis Cluster, as the SDK's L2): one for commands, one for
 * pub/sub. Commands never queue while Redis is away (enableOfflineQueue off,
 * a command timeout), so a caller learns at once that Redis is down and falls
 * back to what the process holds; ioredis keeps reconnecting in the
 * background. The gateway says clearly when it loses and regains Redis
 * (throttled to one line per 10 s while down).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisEndpoints } from '../sdk/index.js';

export type FleetClient = Redis | Cluster;

export interface FleetRedisTarget {
  /** One Redis or a cluster, as the SDK's configuration names them (sdk redisEndpoints). */
  readonly endpoints: RedisEndpoints;
  /** The only CA trusted for TLS (REDIS_TLS_CA), if one is configured. */
  readonly ca?: Buffer;
  /** Where the target is named in logs (URL without password, or the node list). */
  readonly label: string;
}

export interface FleetRedis {
  readonly client: FleetClient;
  /** The pub/sub connection (ioredis re-subscribes by itself after a reconnect). */
  readonly subscriber: FleetClient;
  readonly label: string;
  /** True while the command connection is up. */
  readonly up: boolean;
  /** Resolves true once the command connection is up, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const COMMAND_TIMEOUT_MS = 1000;
const DOWN_LOG_EVERY_MS = 10_000;

// Forever, backing off to 1 s.
const backoff = (times: number): number => Math.min(50 * 2 ** times, 1000);
// Auto-pipelines on a cluster are grouped by a command's first argument; XREAD's is not a key.
const UNPIPELINED = ['xread'];

/** `subscriber`: queues while disconnected (subscriptions made early go out once connected), no pipelining. */
function connect({ endpoints, ca }: FleetRedisTarget, subscriber: boolean): FleetClient {
  const node: RedisOptions = {
    maxRetriesPerRequest: subscriber ? null : 0,
    commandTimeout: subscriber ? undefined : COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    tls: endpoints.tls ? (ca ? { ca } : {}) : undefined,
  };
  const pipelining = { enableOfflineQueue: subscriber, enableAutoPipelining: !subscriber, autoPipeliningIgnoredCommands: UNPIPELINED };
  if (endpoints.mode === 'single') return new Redis(endpoints.url, { ...node, ...pipelining, retryStrategy: backoff });
  return new Cluster(endpoints.nodes.map((n) => ({ host: n.host, port: n.port })), {
    ...pipelining,
    clusterRetryStrategy: backoff,
    retryDelayOnFailover: 100,
    redisOptions: { ...node, username: endpoints.username, password: endpoints.password },
    // Connect to the names given, so TLS checks the certificate against the name.
    dnsLookup: (address, callback) => callback(null, address),
  });
}

export function connectFleetRedis(target: FleetRedisTarget, log: Logger): FleetRedis {
  const client = connect(target, false);
  // Subscriptions are queued until connected, so a gateway started before Redis still subscribes.
  const subscriber = connect(target, true);
  let up = false;
  let closing = false;
  let downSince = 0;
  let lastDownLog = 0;
  client.on('ready', () => {
    if (downSince) log.warn({ redis: target.label, downForS: Math.round((Date.now() - downSince) / 1000) }, 'fleet state Redis reachable again');
    up = true;
    downSince = 0;
  });
  const down = (err?: Error): void => {
    up = false;
    if (closing) return;
    downSince ||= Date.now();
    if (Date.now() - lastDownLog < DOWN_LOG_EVERY_MS) return;
    lastDownLog = Date.now();
    log.error(
      { redis: target.label, err: err?.message },
      'cannot reach the fleet state Redis; retrying. Connected bears keep being answered (L1, provider); bears this gateway has verified can reconnect; new registry bears wait for Redis',
    );
  };
  client.on('error', (err: Error) => down(err));
  // A cluster reports a node's errors apart ('error' only once every node failed).
  if (client instanceof Cluster) client.on('node error', (err: Error) => down(err));
  client.on('close', () => {
    if (up) down();
  });
  subscriber.on('error', () => undefined);

  return {
    client,
    subscriber,
    label: target.label,
    get up() {
      return up;
    },
    ready(timeoutMs) {
      if (up) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(timer);
          client.off('ready', onReady);
          resolve(ok);
        };
        const onReady = (): void => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        client.on('ready', onReady);
      });
    },
    async close() {
      closing = true;
      // QUIT waits for a connection that may never come back (an offline queue holds it): only when up.
      await Promise.all([client, subscriber].map((c) => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.disconnect())));
    },
  };
}

/**
 * L2: Redis through ioredis, one server (`Redis`) or a Redis Cluster
 * (`Cluster`), behind a circuit breaker. Both clients take the same commands
 * and the same scripts (./l2-scripts.ts), so the read and write paths are
 * written once against `RedisClient`; the key layout (./key-layout.ts) keeps
 * every script and multi-key step inside one cluster slot.
 *
 * Every call either succeeds or returns FAILED: a dead, slow (not answering
 * within l2TimeoutMs: ./call-deadlines.ts) or unreachable
 * Redis, a refused TLS handshake, a cluster answering MOVED/ASK in a loop
 * (ioredis gives up after `maxRedirections`) or CLUSTERDOWN is never an error
 * to the cache's caller. A change (`attempt`) tells apart the one failure
 * retrying does not cure, Redis refusing the command itself (Refused), which
 * does not count against the breaker either: Redis answered. Commands do not
 * queue while disconnected (enableOfflineQueue: false) so a caller never
 * waits on an outage; ioredis keeps reconnecting (and, on a cluster,
 * re-reading the slot map) in the background, and the breaker's probe finds
 * out when Redis is back (at once when the connection is ready again, else
 * after `breakerResetMs`). The
 * commands of one tick leave together, its value reads as MGETs and its
 * misses as shared calls of each script (./tick-batch.ts).
 */
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Cluster, Redis, ReplyError, type ClusterOptions, type RedisOptions } from 'ioredis';
import { callDeadlines } from './call-deadlines.js';
import { createCircuitBreaker, type BreakerState, type CircuitBreaker } from './circuit-breaker.js';
import type { CacheConfig } from './config.js';
import type { EntryKeys } from './key-layout.js';
import { defineScripts, missScripts, readOrLock, writeRecord, type ReadOrLock } from './l2-scripts.js';
import type { RedisEndpoints, RedisNode } from './redis-endpoints.js';
import { readBatcher, tickBatcher } from './tick-batch.js';

export const FAILED = Symbol('L2 failed');
export type Failed = typeof FAILED;

/**
 * Redis answered a change with an error that trying again will not cure (WRONGTYPE: another
 * writer's key under ours; NOPERM: an ACL that forbids the command; a script error): it was
 * reached, and it said no. Apart from FAILED so a change kept for replay can stop being retried.
 */
export class Refused {
  constructor(readonly reason: string) {}
}

/**
 * Reply errors that say Redis cannot serve now (loading, busy, failing over, full), or not us
 * until its credentials are fixed (NOAUTH, WRONGPASS: all of L2 is out then, as if down), not
 * that it refuses the command.
 */
const TRANSIENT_REPLY = /^(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|NOREPLICAS|OOM|MISCONF|NOAUTH|WRONGPASS)\b/;

/** True for an error reply that refuses the command itself (see Refused). */
export function isRefusal(err: unknown): err is Error {
  return err instanceof ReplyError && !TRANSIENT_REPLY.test((err as Error).message);
}

const CLOSE_WAIT_MS = 1000;

/** A connection to L2, whichever kind: the cache only uses what both have. */
export type RedisClient = Redis | Cluster;


export interface L2 {
  readonly endpoints: RedisEndpoints;
  readonly client: RedisClient;
  readonly breaker: CircuitBreaker;
  /**
   * Runs a Redis call through the breaker; FAILED (and counted) on any error or while open.
   * Every command issued in one tick (many bears' lookups at once) leaves with the others, in
   * one write or, once a batch fills up, a few (./tick-batch.ts).
   */
  call<T>(fn: (client: RedisClient) => Promise<T>): Promise<T | Failed>;
  /** Like `call`, for a change: what Redis refused for good comes back as Refused, not FAILED. */
  attempt<T>(fn: (client: RedisClient) => Promise<T>): Promise<T | Failed | Refused>;
  /** A miss's read-or-lock script (./l2-scripts.ts), like `call`; the tick's share one call of it. */
  readOrLock(keys: EntryKeys, nowMs: number, leaseMs: number): Promise<ReadOrLock | Failed>;
  /**
   * A miss's write-and-unlock script, like `attempt`; the tick's share one call of it. They stay
   * in order with this instance's other changes: a `call` or `attempt` sends them before its own.
   */
  write(keys: EntryKeys, record: Buffer, keepMs: number, token: string, message: string): Promise<void | Failed | Refused>;
  /**
   * One value record (null when absent), through the breaker like `call`. The reads of one tick
   * leave as MGETs of up to 8 keys (on a cluster, per hash-tag bucket, which is one slot).
   */
  get(key: string): Promise<Buffer | null | Failed>;
  /**
   * A second client for subscriptions (Redis takes a subscribed connection out of command mode),
   * queueing while disconnected so subscriptions made early are sent once connected. On a
   * cluster it keeps one sharded-subscriber connection per master (`shardedSubscribers`).
   */
  subscriber(): RedisClient;
  close(): Promise<void>;
}

export interface L2Events {
  /** A connection error, at most one per 10 s; `tls` when a certificate was refused. */
  readonly onError: (err: Error, kind: 'tls' | 'connection') => void;
  readonly onBreaker: (state: BreakerState) => void;
  /** Every failed call (the cache's `l2-error` event). */
  readonly onCallError?: (err: Error) => void;
}

/** `ca`: the PEM of `l2TlsCaFile`, the only CA then trusted. */
export function connectL2(endpoints: RedisEndpoints, ca: Buffer | undefined, config: CacheConfig, events: L2Events): L2 {
  const tls: ConnectionOptions | undefined = endpoints.tls ? (ca ? { ca } : {}) : undefined;
  // No commandTimeout: every command is bound by `deadlines` instead (./call-deadlines.ts says why).
  const node: RedisOptions = {
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(1000, config.l2TimeoutMs * 4),
    tls,
  };
  // Keep trying forever, backing off to 1 s: the breaker, not the socket, decides when to call.
  const backoff = (times: number) => Math.min(50 * 2 ** times, 1000);
  let client: RedisClient;
  if (endpoints.mode === 'single') {
    client = new Redis(endpoints.url, { ...node, enableOfflineQueue: false, retryStrategy: backoff });
  } else {
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: backoff,
      // Fail fast instead of retrying into a dead master or a cluster that is down: the caller is
      // answered from L1 or compute at once, and the breaker spaces out the retries.
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      slotsRefreshTimeout: Math.max(1000, config.l2TimeoutMs * 2),
      redisOptions: { ...node, username: endpoints.username, password: endpoints.password },
      // Connect to the names given, not the addresses they resolve to, so TLS checks the certificate against the name.
      dnsLookup: (address, callback) => callback(null, address),
    };
    const cluster = new Cluster(endpoints.nodes.map((n) => ({ host: n.host, port: n.port })), options);
    // Connect to each master as soon as the cluster names it: ioredis opens node connections on
    // first use, and with the offline queue off it refuses what reaches a node still connecting.
    cluster.on('+node', (node: Redis) => {
      if (!node.options.readOnly && node.status === 'wait') node.connect().catch(() => undefined);
    });
    client = cluster;
  }
  defineScripts(client);

  const extra: RedisClient[] = [];
  // Shared continuations (a then-chain, not an async function: one promise and hop fewer per call).
  const succeeded = <T>(result: T): T => {
    breaker.success();
    return result;
  };
  const failed = (err: unknown): Failed => {
    // A refusal is an answer: Redis is up, and the breaker is for a Redis that is not.
    if (isRefusal(err)) breaker.success();
    else breaker.failure();
    events.onCallError?.(err as Error);
    return FAILED;
  };
  const failedOrRefused = (err: unknown): Failed | Refused => {
    failed(err);
    return isRefusal(err) ? new Refused(err.message) : FAILED;
  };
  const lastLog = { tls: 0, connection: 0 };
  const report = (err: Error, kind: 'tls' | 'connection'): boolean => {
    // A down Redis emits an error per reconnect attempt; one log line per 10 s (of each kind, so
    // a refused certificate is not hidden behind the "connection closed" it causes) is enough.
    if (Date.now() - lastLog[kind] <= 10_000) return false;
    lastLog[kind] = Date.now();
    events.onError(err, kind);
    return true;
  };
  const quiet = (err: Error) => {
    if (isCertificateError(err)) {
      report(err, 'tls');
    } else if (report(err, 'connection') && endpoints.mode === 'cluster' && tls) {
      // ioredis's cluster client swallows its connections' TLS errors ("Connection is closed"):
      // one handshake of our own says whether the certificate is why.
      void handshakeError(endpoints.nodes[0]!, tls, node.connectTimeout!).then((why) => why && isCertificateError(why) && report(why, 'tls'));
    }
  };
  client.on('error', quiet);
  // A cluster reports a node's connection errors apart (and 'error' only once every node failed).
  if (client instanceof Cluster) client.on('node error', quiet);
  const breaker = createCircuitBreaker({
    failureThreshold: config.breakerFailureThreshold,
    resetMs: config.breakerResetMs,
    onChange: events.onBreaker,
  });
  client.on('ready', () => breaker.reconnected());
  const deadlines = callDeadlines(config.l2TimeoutMs);
  const reads = readBatcher(client, { deadlines, failed: FAILED, onSuccess: () => breaker.success(), onFailure: failed, full: () => batch.flush() });
  const scripts = missScripts(client, deadlines, () => batch.flush());
  // At the tick's end (or when a batch fills up): the writes first, in order with the changes
  // before them, then the misses' reads and the plain reads.
  const batch = tickBatcher(
    client,
    () => {
      scripts.write.send();
      scripts.readOrLock.send();
      reads.send();
    },
    () => scripts.write.queued + scripts.readOrLock.queued + reads.queued,
  );
  const run = <T, F>(fn: () => Promise<T>, onError: (err: unknown) => F): Promise<T | F | Failed> => {
    if (!breaker.allow()) return Promise.resolve(FAILED);
    batch.schedule();
    let pending: Promise<T>;
    try {
      pending = fn();
    } catch (err) {
      pending = Promise.reject(err);
    }
    return pending.then(succeeded, onError);
  };
  /**
   * A command of its own, held back to leave with the tick's others: the writes queued before it
   * go first, so changes reach Redis in order.
   */
  const direct = <T>(fn: (c: RedisClient) => Promise<T>) => () => {
    batch.hold();
    scripts.write.send();
    return deadlines.watch(fn(client));
  };
  return {
    endpoints,
    client,
    breaker,
    call: (fn) => run(direct(fn), failed),
    attempt: (fn) => run(direct(fn), failedOrRefused),
    readOrLock: (keys, nowMs, leaseMs) => run(() => readOrLock(scripts, keys, nowMs, leaseMs), failed),
    write: (keys, record, keepMs, token, message) => run(() => writeRecord(scripts, keys, record, keepMs, token, message), failedOrRefused),
    get(key) {
      if (!breaker.allow()) return Promise.resolve(FAILED);
      batch.schedule();
      return reads.add(key);
    },
    subscriber() {
      // No auto-pipelining: ioredis 5.11 then re-subscribes only one channel per node after a
      // cluster failover (test/sdk/cluster-faults.test.ts caught it); subscriptions gain nothing from it.
      // Its (un)subscriptions keep ioredis's per-command timeout: they are few, and outside `deadlines`.
      const commandTimeout = config.l2TimeoutMs;
      const sub =
        client instanceof Cluster
          ? client.duplicate([], { enableOfflineQueue: true, enableAutoPipelining: false, shardedSubscribers: true, redisOptions: { ...client.options.redisOptions, commandTimeout } })
          : client.duplicate({ enableOfflineQueue: true, enableAutoPipelining: false, maxRetriesPerRequest: null, commandTimeout });
      sub.on('error', quiet);
      extra.push(sub);
      return sub;
    },
    async close() {
      await Promise.all([client, ...extra].map(closeClient));
    },
  };
}

/** QUIT when connected (bounded: a cluster node may be going away), else just drop the sockets. */
async function closeClient(c: RedisClient): Promise<void> {
  if (c.status === 'ready') await Promise.race([c.quit().catch(() => undefined), sleep(CLOSE_WAIT_MS)]);
  c.disconnect();
}

/** Waits until the client is ready or the timeout passes; false if not ready. */
export function waitReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}

/** The error a TLS handshake with this node ends in, if any (a timeout is no verdict). */
function handshakeError(target: RedisNode, options: ConnectionOptions, timeoutMs: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ ...options, host: target.host, port: target.port, servername: isIP(target.host) ? undefined : target.host });
    const done = (err?: Error) => {
      socket.destroy();
      resolve(err);
    };
    socket.setTimeout(timeoutMs, () => done());
    socket.once('secureConnect', () => done());
    socket.once('error', done);
  });
}

/** Node's codes for a server certificate it will not trust (unknown CA, wrong name, expired…). */
function isCertificateError(err: Error & { code?: string; lastNodeError?: Error }): boolean {
  if (err.lastNodeError) return isCertificateError(err.lastNodeError); // a cluster that could reach no node
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/.test(err.code ?? '');
}

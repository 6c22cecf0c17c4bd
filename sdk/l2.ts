/**
 * L2: Redis through ioredis, behind a circuit breaker. Every call either
 * succeeds or returns FAILED: a dead, slow or unreachable Redis is never an
 * error to the cache's caller. Commands do not queue while disconnected
 * (enableOfflineQueue: false) so a caller never waits on an outage; ioredis
 * keeps reconnecting in the background and the breaker's probe finds out
 * when Redis is back.
 */
import { Redis } from 'ioredis';
import { createCircuitBreaker, type BreakerState, type CircuitBreaker } from './circuit-breaker.js';
import type { CacheConfig } from './config.js';
import { defineScripts } from './l2-scripts.js';

export const FAILED = Symbol('L2 failed');
export type Failed = typeof FAILED;

export interface L2 {
  readonly url: string;
  readonly client: Redis;
  readonly breaker: CircuitBreaker;
  /** Runs a Redis call through the breaker; FAILED (and counted) on any error or while open. */
  call<T>(fn: (client: Redis) => Promise<T>): Promise<T | Failed>;
  /** A second connection for subscriptions (Redis takes a subscribed connection out of command mode). */
  subscriber(): Redis;
  close(): Promise<void>;
}

/**
 * `onError`: connection errors, at most one per 10 s; `onBreaker`: breaker changes; `onCallError`:
 * every failed call (for the cache's `l2-error` event).
 */
export function connectL2(
  url: string,
  config: CacheConfig,
  onError: (err: Error) => void,
  onBreaker: (s: BreakerState) => void,
  onCallError?: (err: Error) => void,
): L2 {
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.l2TimeoutMs,
    connectTimeout: Math.max(1000, config.l2TimeoutMs * 4),
    // Keep trying forever, backing off to 1 s: the breaker, not the socket, decides when to call.
    retryStrategy: (times: number) => Math.min(50 * 2 ** times, 1000),
    lazyConnect: false,
    // Commands issued in the same event-loop turn (many bears' lookups at once) share one write
    // and one round trip.
    enableAutoPipelining: true,
  };
  const client = new Redis(url, options);
  defineScripts(client);
  const extra: Redis[] = [];
  let lastErrorLog = 0;
  const quiet = (err: Error) => {
    // A down Redis emits an error per reconnect attempt; one log line per 10 s is enough.
    if (Date.now() - lastErrorLog > 10_000) {
      lastErrorLog = Date.now();
      onError(err);
    }
  };
  client.on('error', quiet);
  const breaker = createCircuitBreaker({
    failureThreshold: config.breakerFailureThreshold,
    resetMs: config.breakerResetMs,
    onChange: onBreaker,
  });
  return {
    url,
    client,
    breaker,
    async call(fn) {
      if (!breaker.allow()) return FAILED;
      try {
        const result = await fn(client);
        breaker.success();
        return result;
      } catch (err) {
        breaker.failure();
        onCallError?.(err as Error);
        return FAILED;
      }
    },
    subscriber() {
      const sub = client.duplicate({ enableOfflineQueue: true });
      sub.on('error', quiet);
      extra.push(sub);
      return sub;
    },
    async close() {
      await Promise.all([client, ...extra].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** Waits until the client is ready or the timeout passes; false if not ready. */
export function waitReady(client: Redis, timeoutMs: number): Promise<boolean> {
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

/**
 * The factory runner: a miss (nothing fresh in L1) resolved with the fewest
 * Redis round trips and at most one compute across all instances.
 *
 *   1. read-or-lock (one script): a fresh L2 record is a hit; otherwise this
 *      instance takes the compute lock, or learns another instance holds it;
 *   2. holding the lock: L3, else compute, then write + announce + unlock
 *      (one script, written behind the caller unless asyncWriteEnabled is off);
 *   3. not holding it: wait for the holder's value in L2, racing again if the
 *      holder finished without one or died; past lockWaitMs, compute alone.
 *
 * A compute that fails falls back to a stale value within its grace period
 * (fail-safe), else throws. With L2 down (breaker open), the instance
 * computes without a lock: availability over a duplicate compute.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import type { FetchResult } from './fetch-result.js';
import { FAILED } from './l2.js';
import { readOrLock, releaseLock } from './l2-scripts.js';
import { promoteL2, readL1, readL3, type Stale } from './read-path.js';
import { store } from './write-path.js';

export type ComputeFn<T> = () => Promise<T> | T;

/** First and longest pause between a lock waiter's L2 polls. */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

export async function resolveMiss<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>): Promise<FetchResult<T>> {
  const { metrics, l2 } = parts;
  metrics.lookups += 1;
  const now = Date.now();
  const inL1 = readL1(parts, ctx, now);
  if ('result' in inL1) return inL1.result as FetchResult<T>;
  let stale = inL1.stale;

  if (l2 && ctx.policy.l2) {
    const t0 = performance.now();
    const read = await l2.call((c) => readOrLock(c, ctx.keys, now, parts.config.lockLeaseMs));
    if (read === FAILED) {
      metrics.layerErrors.l2 += 1;
    } else {
      const found = await promoteL2(parts, ctx, read.record, now, t0);
      if ('result' in found) return found.result as FetchResult<T>;
      stale ??= found.stale;
      metrics.misses += 1;
      if (read.state === 'locked') return computeLocked(parts, ctx, computeFn, stale, read.token);
      return waitForHolder(parts, ctx, computeFn, stale);
    }
  }
  const inL3 = await readL3(parts, ctx, now);
  if (inL3) return inL3 as FetchResult<T>;
  metrics.misses += 1;
  return compute(parts, ctx, computeFn, stale, '');
}

/** This instance holds the lock: L3 may still have the bytes; else compute. The write releases the lock. */
async function computeLocked<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, stale: Stale | undefined, token: string): Promise<FetchResult<T>> {
  const inL3 = await readL3(parts, ctx, Date.now());
  if (inL3) {
    // Back into L2 for the other instances, releasing the lock on the way.
    await store(parts, ctx, inL3.value, { awaitL2: false, lockToken: token });
    return inL3 as FetchResult<T>;
  }
  return compute(parts, ctx, computeFn, stale, token);
}

/** Another instance computes: its value appears in L2 (its write releases the lock). */
async function waitForHolder<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, stale: Stale | undefined): Promise<FetchResult<T>> {
  const { metrics, config, l2 } = parts;
  metrics.coalesced += 1;
  const deadline = Date.now() + config.lockWaitMs;
  for (let pause = FIRST_POLL_MS; Date.now() < deadline; pause = Math.min(pause * 2, MAX_POLL_MS)) {
    await sleep(pause);
    // One script per poll: the holder's value, or the lock if the holder failed or died.
    const t0 = performance.now();
    const read = await l2!.call((c) => readOrLock(c, ctx.keys, Date.now(), config.lockLeaseMs));
    if (read === FAILED) break;
    const found = await promoteL2(parts, ctx, read.record, Date.now(), t0);
    if ('result' in found) return found.result as FetchResult<T>;
    if (read.state === 'locked') return computeLocked(parts, ctx, computeFn, stale ?? found.stale, read.token);
  }
  return compute(parts, ctx, computeFn, stale, '');
}

async function compute<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, stale: Stale | undefined, lockToken: string): Promise<FetchResult<T>> {
  const { metrics, config } = parts;
  metrics.computes += 1;
  const t0 = performance.now();
  let value: T;
  try {
    value = await computeFn();
  } catch (err) {
    metrics.computeErrors += 1;
    metrics.layerErrors.compute += 1;
    if (lockToken) void parts.l2!.call((c) => releaseLock(c, ctx.keys.lockKey, lockToken));
    if (stale) {
      metrics.staleServed += 1;
      return { value: stale.value as T, source: 'stale' };
    }
    throw err;
  }
  metrics.record('compute', (performance.now() - t0) * 1000);
  metrics.layerHits.compute += 1;
  try {
    const blob = await store(parts, ctx, value, { awaitL2: !config.asyncWriteEnabled, lockToken });
    return { value, source: 'compute', blob };
  } catch (err) {
    // A value that cannot be cached (too large, not serializable) must not keep others waiting on the lock.
    if (lockToken) void parts.l2!.call((c) => releaseLock(c, ctx.keys.lockKey, lockToken));
    throw err;
  }
}

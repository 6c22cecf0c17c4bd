/**
 * The factory runner: a miss (nothing fresh in L1) resolved with the fewest
 * Redis round trips and at most one compute across all instances.
 *
 *   1. read-or-lock (one script): a fresh L2 record is a hit; otherwise this
 *      instance takes the compute lock, or learns another instance holds it;
 *   2. holding the lock: L3, else compute, then write + announce + unlock
 *      (one script, written behind the caller unless asyncWriteEnabled is off);
 *      a compute that outlives half a lease renews it, so it keeps the lock
 *      even when its callers stopped waiting (./lock-keeper.ts);
 *   3. not holding it: wait for the holder's value in L2, racing again if the
 *      holder finished without one or died; past lockWaitMs, compute alone.
 *
 * Once the layers are asked, the stale stand-in (if any) is reported to the
 * flight (./flight.ts) so callers' timeouts can fall back to it. A compute
 * that fails falls back to a stale value within its grace period
 * (fail-safe), else throws. With L2 down (breaker open) or not read
 * (skipL2Read), the instance computes without a lock: availability over a
 * duplicate compute.
 *
 * Eager refresh is the same runner in the background: a hit past its
 * threshold takes the lock only if L2 still holds the value being refreshed
 * (read-or-lock with the value's own expiry as "now"), so of all instances
 * hitting it, one recomputes, once.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import { createComputeContext, type ComputeFn } from './compute-context.js';
import type { FetchResult } from './fetch-result.js';
import { FAILED } from './l2.js';
import { releaseLock } from './l2-scripts.js';
import { promoteL2, readL1, readL3, readsL2, type Hit, type Stale } from './read-path.js';
import { store } from './write-path.js';

export type { ComputeFn } from './compute-context.js';

/** First and longest pause between a lock waiter's L2 polls. */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

export async function resolveMiss<T>(
  parts: CacheParts,
  ctx: CallContext,
  computeFn: ComputeFn<T>,
  looked: (stale: Stale | undefined) => void,
): Promise<FetchResult<T>> {
  const { metrics, l2, config } = parts;
  metrics.lookups += 1;
  const now = Date.now();
  const inL1 = readL1(parts, ctx, now);
  if ('result' in inL1) return served(parts, ctx, computeFn, inL1);
  let stale = inL1.stale;

  if (readsL2(parts, ctx)) {
    const epoch = parts.coherence.epoch;
    const t0 = performance.now();
    const read = await ctx.trace.layer('l2', () => l2!.readOrLock(ctx.keys, now, config.lockLeaseMs));
    if (read === FAILED) {
      metrics.layerErrors.l2 += 1;
    } else {
      const found = await promoteL2(parts, ctx, read.record, now, t0, epoch);
      if ('result' in found) return served(parts, ctx, computeFn, found);
      stale ??= found.stale;
      missed(parts, ctx);
      looked(stale);
      if (read.state === 'locked') return computeLocked(parts, ctx, computeFn, stale, read.token);
      // Fresh but unreadable (another keyring's, tampered): no holder will ever replace it for us.
      if (read.state === 'fresh') return compute(parts, ctx, computeFn, stale, '', false);
      return waitForHolder(parts, ctx, computeFn, stale);
    }
  }
  const inL3 = await readL3(parts, ctx, now);
  if (inL3) return inL3 as FetchResult<T>;
  missed(parts, ctx);
  looked(stale);
  return compute(parts, ctx, computeFn, stale, '', false);
}

/** A hit below the fast path: served as is; if past its refresh threshold, refreshed behind the caller. */
function served<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, hit: Hit): FetchResult<T> {
  if (hit.refreshFrom !== undefined) refreshInBackground(parts, ctx, computeFn, hit);
  return hit.result as FetchResult<T>;
}

function missed(parts: CacheParts, ctx: CallContext): void {
  parts.metrics.misses += 1;
  if (parts.events.has('miss')) parts.events.emit('miss', { key: ctx.key, contentType: ctx.type });
}

/** This instance holds the lock: L3 may still have the bytes; else compute. The write releases the lock. */
async function computeLocked<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, stale: Stale | undefined, token: string): Promise<FetchResult<T>> {
  const inL3 = await readL3(parts, ctx, Date.now());
  if (inL3) {
    // Back into L2 for the other instances, releasing the lock on the way.
    await store(parts, ctx, inL3.value, { awaitL2: false, lockToken: token });
    return inL3 as FetchResult<T>;
  }
  return compute(parts, ctx, computeFn, stale, token, false);
}

/** Another instance computes: its value appears in L2 (its write releases the lock). */
async function waitForHolder<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, stale: Stale | undefined): Promise<FetchResult<T>> {
  const { metrics, config, l2 } = parts;
  metrics.coalesced += 1;
  const deadline = Date.now() + config.lockWaitMs;
  for (let pause = FIRST_POLL_MS; Date.now() < deadline; pause = Math.min(pause * 2, MAX_POLL_MS)) {
    await sleep(pause);
    // One script per poll: the holder's value, or the lock if the holder failed or died.
    const epoch = parts.coherence.epoch;
    const t0 = performance.now();
    const read = await l2!.readOrLock(ctx.keys, Date.now(), config.lockLeaseMs);
    if (read === FAILED) break;
    const found = await promoteL2(parts, ctx, read.record, Date.now(), t0, epoch);
    if ('result' in found) return found.result as FetchResult<T>;
    if (read.state === 'locked') return computeLocked(parts, ctx, computeFn, stale ?? found.stale, read.token);
    if (read.state === 'fresh') break; // the holder's value, but unreadable here: compute alone
  }
  return compute(parts, ctx, computeFn, stale, '', false);
}

/**
 * Runs the compute function and stores its value (as it decided: ./compute-context.ts).
 * `background`: no caller waits for it (an eager refresh), so a failure serves no one.
 */
async function compute<T>(
  parts: CacheParts,
  ctx: CallContext,
  computeFn: ComputeFn<T>,
  stale: Stale | undefined,
  lockToken: string,
  background: boolean,
): Promise<FetchResult<T>> {
  const { metrics, config, events } = parts;
  metrics.computes += 1;
  const t0 = performance.now();
  const adaptive = createComputeContext<T>(stale?.value as T | undefined);
  if (lockToken) parts.locks.hold(ctx.keys.lockKey, lockToken);
  let value: T;
  try {
    value = await ctx.trace.layer('compute', async () => computeFn(adaptive.ctx));
  } catch (err) {
    metrics.computeErrors += 1;
    metrics.layerErrors.compute += 1;
    if (lockToken) void releaseComputeLock(parts, ctx.keys.lockKey, lockToken);
    if (stale && !background) {
      metrics.staleServed += 1;
      if (events.has('stale')) events.emit('stale', { key: ctx.key, contentType: ctx.type, reason: 'compute-failed' });
      return { value: stale.value as T, source: 'stale' };
    }
    throw err;
  }
  if (lockToken) parts.locks.drop(ctx.keys.lockKey, lockToken); // from here the lock goes with the write
  metrics.record('compute', (performance.now() - t0) * 1000);
  metrics.layerHits.compute += 1;
  try {
    const blob = await store(parts, ctx, value, { awaitL2: !config.asyncWriteEnabled, lockToken, decisions: adaptive.decisions() });
    return { value, source: 'compute', blob };
  } catch (err) {
    // A value that cannot be cached (too large, not serializable) must not keep others waiting on the lock.
    if (lockToken) void releaseComputeLock(parts, ctx.keys.lockKey, lockToken);
    throw err;
  }
}

/** Gives a compute lock back (a no-op in Redis if it is no longer this token's). */
export function releaseComputeLock(parts: CacheParts, lockKey: string, token: string): Promise<unknown> {
  parts.locks.drop(lockKey, token);
  return parts.l2!.call((c) => releaseLock(c, lockKey, token));
}

/**
 * Eager refresh: recomputes a value past its refresh threshold behind the caller, once per
 * entry in this process and once across instances (the lock is taken only while L2 still holds
 * the value expiring at `hit.refreshFrom`; a newer record there is simply promoted).
 */
export function refreshInBackground<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, hit: Hit): void {
  if (hit.entry) hit.entry.refreshing = true;
  const id = ctx.keys.l2Key;
  if (parts.refreshing.has(id)) return;
  parts.refreshing.add(id);
  if (parts.events.has('refresh')) parts.events.emit('refresh', { key: ctx.key, contentType: ctx.type, reason: 'eager' });
  refresh(parts, ctx, computeFn, hit)
    .catch((err: unknown) => {
      parts.config.logger.warn({ err: (err as Error).message, contentType: ctx.type }, 'eager refresh failed');
      // The value is still due: a later hit tries again (one at a time), rather than let it expire.
      if (hit.entry) hit.entry.refreshing = false;
    })
    .finally(() => {
      parts.refreshing.delete(id);
      ctx.trace.end(undefined);
    });
}

async function refresh<T>(parts: CacheParts, ctx: CallContext, computeFn: ComputeFn<T>, hit: Hit): Promise<void> {
  const current: Stale = { value: hit.result.value };
  if (readsL2(parts, ctx)) {
    const epoch = parts.coherence.epoch;
    const t0 = performance.now();
    const read = await parts.l2!.readOrLock(ctx.keys, hit.refreshFrom!, parts.config.lockLeaseMs);
    if (read !== FAILED) {
      if (read.state === 'fresh') await promoteL2(parts, ctx, read.record, Date.now(), t0, epoch); // refreshed elsewhere
      else if (read.state === 'locked') await compute(parts, ctx, computeFn, current, read.token, true);
      return; // 'held': another instance is refreshing it
    }
    parts.metrics.layerErrors.l2 += 1;
  }
  await compute(parts, ctx, computeFn, current, '', true);
}

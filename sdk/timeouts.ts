/**
 * Factory timeouts: how long one caller waits for a compute (its own or the
 * one it shares, in this process or in another instance holding the lock).
 *
 *   soft (softTimeoutMs): with a stale value at hand, wait at most this long,
 *        then take the stale value; 0 = take it at once;
 *   hard (hardTimeoutMs): wait at most this long at all, then the stale value
 *        if any, else a TimeoutError.
 *
 * Either way the compute is not abandoned: it goes on in the background,
 * keeps the cross-instance lock, and fills every layer when it ends, so the
 * next caller finds the fresh value. Both are measured from the call's start
 * and may be set per call or per content type; unset, not finite or past
 * Node's longest timer (MAX_TIMER_MS, 24.8 days: a longer setTimeout fires at
 * once) means no limit.
 */
import { performance } from 'node:perf_hooks';
import type { CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import { TimeoutError } from './errors.js';
import type { FetchResult } from './fetch-result.js';
import type { Flight } from './flight.js';
import type { Stale } from './read-path.js';

/** The longest delay setTimeout keeps (2^31 − 1 ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const limit = (ms: number | undefined): number | undefined => (ms !== undefined && ms <= MAX_TIMER_MS ? ms : undefined);

/** The flight's result, or what the call's timeouts give instead. */
export function awaitFlight<T>(parts: CacheParts, ctx: CallContext, flight: Flight<T>): Promise<FetchResult<T>> {
  const soft = limit(ctx.options?.softTimeoutMs ?? ctx.policy.softTimeoutMs);
  const hard = limit(ctx.options?.hardTimeoutMs ?? ctx.policy.hardTimeoutMs);
  if (soft === undefined && hard === undefined) return flight.result;
  const started = performance.now();
  return new Promise<FetchResult<T>>((resolve, reject) => {
    let done = false;
    let softTimer: NodeJS.Timeout | undefined;
    let hardTimer: NodeJS.Timeout | undefined;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(softTimer);
      clearTimeout(hardTimer);
      return true;
    };
    flight.result.then(
      (r) => finish() && resolve(r),
      (err: unknown) => finish() && reject(err),
    );
    const giveUp = (kind: 'soft' | 'hard', timeoutMs: number, stale: Stale | undefined) => {
      if (!finish()) return;
      const { events, metrics } = parts;
      const at = { key: ctx.key, contentType: ctx.type };
      if (events.has('timeout')) events.emit('timeout', { ...at, kind, timeoutMs, served: stale ? 'stale' : 'error' });
      if (!stale) return reject(new TimeoutError(timeoutMs));
      metrics.staleServed += 1;
      if (events.has('stale')) events.emit('stale', { ...at, reason: kind === 'soft' ? 'soft-timeout' : 'hard-timeout' });
      resolve({ value: stale.value as T, source: 'stale' });
    };
    if (soft !== undefined) {
      void flight.stale.then((stale) => {
        if (done || !stale) return;
        const left = soft - (performance.now() - started);
        if (left <= 0) giveUp('soft', soft, stale);
        else softTimer = setTimeout(() => giveUp('soft', soft, stale), left);
      });
    }
    if (hard !== undefined) {
      hardTimer = setTimeout(() => void flight.stale.then((stale) => giveUp('hard', hard, stale)), hard);
    }
  });
}

/**
 * Auto-recovery: writes, deletes and tag invalidations that could not reach
 * Redis (down, or the breaker open) are kept here and replayed, in the order
 * they were made, once Redis answers again; so after an outage L2, and
 * through the replayed announcements every instance's L1, agree with the
 * last change this instance made. Bounded: at most `maxItems` changes and
 * `maxBytes` of kept records (the oldest are dropped first; a gateway must
 * not run out of memory in a long outage), and only the newest change per entry
 * (a later set or delete of the same key replaces the earlier one). While
 * changes are kept, the write path queues new ones behind them instead of
 * sending them (./write-path.ts), so a replay never overwrites a newer
 * change this instance made.
 *
 * Each kept change is its own replay function (the write path builds it),
 * saying whether Redis took it, could not be reached, or refused it. Only
 * an unreachable Redis is an outage worth waiting out. A change Redis refuses
 * (another writer's key of the wrong type under ours, an ACL forbidding the
 * command) is refused again however often it is tried, and kept in order it
 * would hold every later change behind it forever: it is dropped, with a
 * warning (at most one per REFUSAL_LOG_MS, counting the rest), and the
 * replay goes on.
 */
import type { CacheLogger } from './config.js';
import { FAILED, Refused } from './l2.js';

/** One try of a kept change: Redis took it, could not be reached (down, breaker open, timed out), or said no. */
export type ChangeOutcome = 'done' | 'unreachable' | Refused;

/** The outcome of one L2 call made for a change (`attempt`'s result). */
export function outcomeOf(result: unknown): ChangeOutcome {
  return result === FAILED ? 'unreachable' : result instanceof Refused ? result : 'done';
}

/** At most one "refused" warning per this long: an ACL refusing every write must not flood the log. */
const REFUSAL_LOG_MS = 10_000;

export interface RecoveryQueue {
  /**
   * Keeps a failed change for replay (`bytes`: what it holds, a write's record); a kept change with
   * the same id is replaced (and moves to the end).
   */
  keep(id: string, replay: () => Promise<ChangeOutcome>, bytes?: number): void;
  /** Notes a change Redis refused on its first try: never kept, only said (rate-limited). */
  refused(refusal: Refused): void;
  readonly size: number;
  /** Replays kept changes in order until one fails; schedules a retry if any remain. */
  replay(): Promise<void>;
  close(): void;
}

export interface RecoveryQueueOptions {
  readonly maxItems: number;
  readonly maxBytes: number;
  /** Pause before retrying when a replay failed (Redis still down, breaker still open). */
  readonly retryMs: number;
  readonly logger: CacheLogger;
}

interface Kept {
  readonly replay: () => Promise<ChangeOutcome>;
  readonly bytes: number;
}

export function createRecoveryQueue({ maxItems, maxBytes, retryMs, logger }: RecoveryQueueOptions): RecoveryQueue {
  const kept = new Map<string, Kept>();
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let droppedSinceLog = 0;
  let refusalLoggedAt = -Infinity;
  let refusedSinceLog = 0;

  const sayRefused = (refusal: Refused, replayed: boolean): void => {
    refusedSinceLog += 1;
    if (Date.now() - refusalLoggedAt < REFUSAL_LOG_MS) return;
    logger.warn({ err: refusal.reason, refused: refusedSinceLog }, replayed ? 'kept L2 change refused by Redis; dropped' : 'L2 change refused by Redis; not kept for replay');
    refusalLoggedAt = Date.now();
    refusedSinceLog = 0;
  };

  const schedule = () => {
    if (timer || closed || kept.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void queue.replay();
    }, retryMs);
    timer.unref();
  };

  const drop = (id: string): void => {
    bytes -= kept.get(id)?.bytes ?? 0;
    kept.delete(id);
  };

  const drain = async (): Promise<void> => {
    for (const [id, change] of kept) {
      let outcome: ChangeOutcome;
      try {
        outcome = await change.replay();
      } catch (err) {
        // A change that cannot be replayed at all (it threw) is dropped, not retried forever.
        logger.warn({ err: (err as Error).message }, 'kept L2 change could not be replayed; dropped');
        outcome = 'done';
      }
      if (outcome === 'unreachable') return;
      if (outcome instanceof Refused) sayRefused(outcome, true);
      // A newer change for the same entry may have been kept while this one ran: keep that one.
      if (kept.get(id) === change) drop(id);
    }
  };

  const queue: RecoveryQueue = {
    keep(id, replay, size = 0) {
      if (closed || maxItems <= 0 || size > maxBytes) return;
      drop(id);
      kept.set(id, { replay, bytes: size });
      bytes += size;
      while (kept.size > maxItems || bytes > maxBytes) {
        drop(kept.keys().next().value!);
        if (droppedSinceLog++ === 0) logger.warn({ maxItems, maxBytes }, 'auto-recovery queue full: oldest kept L2 changes dropped');
      }
      schedule();
    },
    refused: (refusal) => sayRefused(refusal, false),
    get size() {
      return kept.size;
    },
    async replay() {
      if (closed || kept.size === 0) return;
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          await drain();
        } while (again && kept.size > 0);
      })();
      try {
        await running;
      } finally {
        running = undefined;
        droppedSinceLog = 0;
        schedule();
      }
    },
    close() {
      // Nothing can replay them any more: say so, an operator must not find out from stale data.
      if (kept.size > 0) logger.warn({ dropped: kept.size }, 'cache closed with L2 changes still kept for replay: dropped');
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      kept.clear();
      bytes = 0;
    },
  };
  return queue;
}

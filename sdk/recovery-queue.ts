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
 * returning false while Redis still refuses it.
 */
import type { CacheLogger } from './config.js';

export interface RecoveryQueue {
  /**
   * Keeps a failed change for replay (`bytes`: what it holds, a write's record); a kept change with
   * the same id is replaced (and moves to the end).
   */
  keep(id: string, replay: () => Promise<boolean>, bytes?: number): void;
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
  readonly replay: () => Promise<boolean>;
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
      let ok: boolean;
      try {
        ok = await change.replay();
      } catch (err) {
        // A change that cannot be replayed at all (it threw, not refused) is dropped, not retried forever.
        logger.warn({ err: (err as Error).message }, 'kept L2 change could not be replayed; dropped');
        ok = true;
      }
      if (!ok) return;
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

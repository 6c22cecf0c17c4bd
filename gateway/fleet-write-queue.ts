/**
 * Fleet writes a storm issues by the thousand go to Redis a chunk at a time.
 * Why: 10,000 bears disconnecting at once (the end of a simulator run, a
 * network blip) each release their claim; issued at once, 10,000 script calls
 * hold 10,000 command objects, argument arrays and promises in memory together
 * (the gateway's RSS jumped 8 MB at the simulator's drain). Queued, they hold
 * only the items, and at most one chunk of commands is in flight — still one
 * round trip per chunk, since ioredis pipelines what is issued together.
 */

/** Commands in flight at once. */
export const FLEET_WRITE_CHUNK = 256;

/** Runs `write` over `items`, a chunk at a time; the results in item order. */
export async function inChunks<T>(items: readonly T[], write: (item: T) => Promise<unknown>): Promise<PromiseSettledResult<unknown>[]> {
  const results: PromiseSettledResult<unknown>[] = [];
  for (let at = 0; at < items.length; at += FLEET_WRITE_CHUNK) {
    results.push(...(await Promise.allSettled(items.slice(at, at + FLEET_WRITE_CHUNK).map(write))));
  }
  return results;
}

export interface WriteQueue<T> {
  /** Queues one write; writes run in the order they were queued. */
  push(item: T): void;
  /** Resolves once everything queued so far is written (or failed). */
  drained(): Promise<void>;
}

/**
 * A queue drained a chunk at a time by `write`. A write that fails is the
 * caller's to report (`write` catches what it wants to log); the queue goes on.
 */
export function createWriteQueue<T>(write: (item: T) => Promise<unknown>): WriteQueue<T> {
  let queued: T[] = [];
  let draining: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      await inChunks(batch, write);
    }
    draining = undefined;
  };
  return {
    push(item) {
      queued.push(item);
      // Started once the current synchronous work is done (a microtask): pushes made together leave together.
      draining ??= Promise.resolve().then(drain);
    },
    drained: () => draining ?? Promise.resolve(),
  };
}

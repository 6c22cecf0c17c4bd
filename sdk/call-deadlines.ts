/**
 * A deadline for every L2 call without a Node timer per call. ioredis's
 * `commandTimeout` arms a timer for each command and clears it on the reply:
 * with one command in flight, each is the only timer of its length, so Node
 * builds and drops a timer list per command. On a lone L2 read that cost 3–7
 * µs of a ~90 µs round trip here (measured: docs/sdk.md#benchmark).
 *
 * Every call waits equally long (`l2TimeoutMs`), so the calls in flight are
 * kept in generations instead, one per half timeout: a sweep every half
 * timeout moves each generation one step older and fails the calls of the
 * oldest. A call Redis does not answer so fails between 1× and 1.5× the
 * timeout after it was sent; one that is answered costs a Set insertion and
 * deletion. The sweep runs only while calls are in flight, and never keeps
 * the process alive.
 */

export interface CallDeadlines {
  /** `pending`, or a rejection with the timeout error if it has not settled in time. */
  watch<T>(pending: Promise<T>): Promise<T>;
}

type Fail = () => void;

/** Generations a call passes through before it fails: sent in the youngest, it fails 2–3 sweeps later. */
const GENERATIONS = 3;

export function callDeadlines(timeoutMs: number): CallDeadlines {
  /** Youngest first. A call removes itself from the Set it joined, wherever that Set has moved since. */
  const generations: Set<Fail>[] = Array.from({ length: GENERATIONS }, () => new Set<Fail>());
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () => {
    const oldest = generations.pop()!;
    generations.unshift(new Set());
    for (const fail of oldest) fail();
    if (generations.every((g) => g.size === 0)) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  return {
    watch(pending) {
      return new Promise((resolve, reject) => {
        const joined = generations[0]!;
        const fail = () => reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
        joined.add(fail);
        if (sweeper === undefined) {
          sweeper = setInterval(sweep, timeoutMs / (GENERATIONS - 1));
          sweeper.unref();
        }
        pending.then(
          (value) => {
            joined.delete(fail);
            resolve(value);
          },
          (err: unknown) => {
            joined.delete(fail);
            reject(err);
          },
        );
      });
    },
  };
}

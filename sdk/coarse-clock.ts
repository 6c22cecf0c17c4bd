/**
 * Date.now() for the L1 hit path, read at most once per READS_PER_TICK calls
 * and at least once per event-loop turn. Why: on VMs without a vDSO clock,
 * Date.now() is a system call (≈100 ns on our CI machines), as costly as the
 * whole LRU lookup. An entry's expiry is thus judged by a clock that is at
 * most one event-loop turn (or READS_PER_TICK hits) behind.
 */
const READS_PER_TICK = 64;

let now = 0;
let reads = 0;
let refreshScheduled = false;

export function coarseNow(): number {
  if (reads > 0) {
    reads -= 1;
    return now;
  }
  now = Date.now();
  reads = READS_PER_TICK - 1;
  if (!refreshScheduled) {
    refreshScheduled = true;
    setImmediate(expire).unref();
  }
  return now;
}

function expire(): void {
  reads = 0;
  refreshScheduled = false;
}

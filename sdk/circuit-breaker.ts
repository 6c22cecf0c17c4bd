/**
 * A circuit breaker for L2: after `failureThreshold` consecutive failures it
 * opens and the cache stops calling Redis (answering from L1 or the compute
 * function) until `resetMs` has passed; then one probe is let through, and its
 * outcome closes the breaker or opens it again. A dead Redis thus costs one
 * failed call per `resetMs`, not one per request. When the connection comes
 * back (`reconnected`), the probe is let through at once: Redis answered, so
 * waiting out `resetMs` would only delay L2 and the auto-recovery replay.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  readonly state: BreakerState;
  /** True if a call may go ahead now (in half-open, only the single probe). */
  allow(): boolean;
  success(): void;
  failure(): void;
  /** The connection is up again: an open breaker lets its probe through now. */
  reconnected(): void;
}

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly resetMs: number;
  readonly now?: () => number;
  readonly onChange?: (state: BreakerState) => void;
}

export function createCircuitBreaker({ failureThreshold, resetMs, now = Date.now, onChange }: BreakerOptions): CircuitBreaker {
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probing = false;

  const set = (next: BreakerState) => {
    if (next === state) return;
    state = next;
    onChange?.(next);
  };

  return {
    get state() {
      return state;
    },
    allow() {
      if (state === 'closed') return true;
      if (state === 'open') {
        if (now() - openedAt < resetMs) return false;
        set('half-open');
      }
      if (probing) return false;
      probing = true;
      return true;
    },
    success() {
      failures = 0;
      probing = false;
      set('closed');
    },
    failure() {
      probing = false;
      failures += 1;
      if (state === 'half-open' || failures >= failureThreshold) {
        openedAt = now();
        set('open');
      }
    },
    reconnected() {
      if (state === 'open') openedAt = now() - resetMs;
    },
  };
}

/**
 * The compute locks this instance holds, renewed while their computes run: a
 * compute that outlives half a lease renews it, so it keeps the lock even
 * when its callers stopped waiting (./timeouts.ts), and the other instances
 * go on waiting for its value instead of computing it again.
 *
 * One sweep per instance renews every lock held half a lease since it was
 * taken or last renewed, instead of a timer per compute: with one miss at a
 * time each would be the only timer of its length, and Node builds and
 * drops a timer list for it (as ./call-deadlines.ts says of ioredis's
 * `commandTimeout`). The sweep runs every sixth of a lease, so a lock is
 * renewed at most two thirds of a lease after it was taken; it runs only
 * while locks are held, and never keeps the process alive.
 *
 * close() gives back the locks still held (a background refresh cut short),
 * so the other instances need not wait out the lease.
 */

export interface LockKeeper {
  /** Notes the lock as held and renews it until `drop`. */
  hold(lockKey: string, token: string): void;
  /** Stops renewing it (it goes with the value's write, or with a release); a no-op unless `token` holds it here. */
  drop(lockKey: string, token: string): void;
  /** The locks held now: lock key and token. */
  held(): [string, string][];
}

/** Sweeps per lease: a lock due at half a lease is renewed within the next sixth. */
const SWEEPS_PER_LEASE = 6;

/** `renew` extends a lock by a lease in Redis (its failures are the caller's to count). */
export function lockKeeper(leaseMs: number, renew: (lockKey: string, token: string) => void): LockKeeper {
  const locks = new Map<string, { readonly token: string; since: number }>();
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () => {
    const now = Date.now();
    for (const [lockKey, lock] of locks) {
      if (now - lock.since < leaseMs / 2) continue;
      lock.since = now;
      renew(lockKey, lock.token);
    }
    if (locks.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  return {
    hold(lockKey, token) {
      locks.set(lockKey, { token, since: Date.now() });
      if (sweeper !== undefined) return;
      sweeper = setInterval(sweep, leaseMs / SWEEPS_PER_LEASE);
      sweeper.unref();
    },
    drop(lockKey, token) {
      if (locks.get(lockKey)?.token === token) locks.delete(lockKey);
    },
    held: () => [...locks].map(([lockKey, lock]) => [lockKey, lock.token]),
  };
}

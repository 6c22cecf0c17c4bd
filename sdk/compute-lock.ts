/**
 * The cross-instance half of stampede protection: a short-lease lock in
 * Redis (SET NX PX with a random token) so that of all instances missing the
 * same key at once, one computes. Release deletes the lock only if the token
 * is still ours, so a holder whose lease ran out cannot free a successor's lock.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { FAILED, type L2 } from './l2.js';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export type LockResult = { readonly token: string } | 'held' | 'unavailable';

export async function acquireLock(l2: L2, lockKey: string, leaseMs: number): Promise<LockResult> {
  const token = randomBytes(12).toString('base64url');
  const reply = await l2.call((c) => c.set(lockKey, token, 'PX', leaseMs, 'NX'));
  if (reply === FAILED) return 'unavailable';
  return reply === 'OK' ? { token } : 'held';
}

export async function releaseLock(l2: L2, lockKey: string, token: string): Promise<void> {
  await l2.call((c: Redis) => c.eval(RELEASE, 1, lockKey, token));
}

/** True if the lock is still held by someone (FAILED counts as not: then we stop waiting). */
export async function lockHeld(l2: L2, lockKey: string): Promise<boolean> {
  const reply = await l2.call((c) => c.exists(lockKey));
  return reply !== FAILED && reply === 1;
}

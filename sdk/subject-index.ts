/**
 * The per-subject index behind `eraseSubject` (COPPA, GDPR-K: the right to
 * erasure). A value written or read with `{ subject }` (a bear's device id,
 * a child's account) is recorded twice in Redis, so erasing never scans the
 * keyspace:
 *   {prefix}subject:{h}         sorted set of the value keys the subject's
 *                               input produced or used (score: when each
 *                               value lapses), TTL'd like tag sets and
 *                               capped at MAX_ENTRIES (the soonest-lapsing
 *                               beyond it are erased as on `eraseSubject`)
 *   {bb}subjects:{type}:{hash}  set of the subjects of one value, next to
 *                               the value (same Cluster slot), same TTL
 * where h is the SHA-256 of the subject (never the subject itself).
 *
 * Erasing a subject takes it off each of its values; a value no other
 * subject used goes from every layer — L2 (announced on the bus, so every
 * instance's L1 drops it), this L1, its L3 ref, and its L3 blob when no
 * other ref names those bytes — and a value another subject also used stays
 * (a shared answer to a common phrase carries nothing of one child).
 * Reads that hit are recorded once per (value, subject) in this process
 * (an LRU), so the L1 fast path does no Redis work per hit. A value first
 * written without a subject (a starter clip, anything cached before) is
 * nobody's input: the first read that records a subject on it also records
 * ANONYMOUS, so no erasure ever removes it.
 */
import { LRUCache } from 'lru-cache';
import type { CacheParts } from './cache-parts.js';
import { policyFor, type ContentType } from './content-types.js';
import { CacheError } from './errors.js';
import { sha256Hex } from './keys.js';
import { FAILED, type RedisClient } from './l2.js';
import { removeRecords } from './l2-scripts.js';

/** Values one subject's index holds at most. */
export const MAX_ENTRIES = 10_000;
/**
 * (value, subject) pairs this process remembers having recorded. A pair costs ~170 bytes here (its
 * string and lru-cache's per-entry slots, estimated), so 100,000 could hold ~17 MB; the 10,000-bear
 * simulator run's peak RSS did not move measurably between the two bounds. A pair forgotten and hit
 * again is recorded again: a few idempotent commands in the background. (`peek` keeps its own
 * per-entry memory in front of this: ./cache.ts.)
 */
const NOTED = 20_000;
/** The owner of a value written without a subject. */
const ANONYMOUS = '*';

/** What erasing a subject removed, per layer, and what it left because others use it. */
export interface SubjectErasure {
  /** Values removed from L2 (and so from every instance's L1 through the bus). */
  readonly l2: number;
  /** Of those, held in this process's L1. */
  readonly l1: number;
  /** L3 refs and blobs removed. */
  readonly l3Refs: number;
  readonly l3Blobs: number;
  /** Values kept because another subject used them too. */
  readonly shared: number;
}

const noted = new WeakMap<CacheParts, LRUCache<string, true>>();

const subjectHash = (subject: string): string => sha256Hex(`subject\0${subject}`);
const indexKey = (parts: CacheParts, subject: string): string => `${parts.config.keyPrefix}subject:${subjectHash(subject)}`;
/** `{prefix}{bb}type:hash` -> `{prefix}{bb}subjects:type:hash` (the prefix has no braces: config.ts checks). */
const ownersKey = (l2Key: string): string => {
  const end = l2Key.indexOf('}') + 1;
  return `${l2Key.slice(0, end)}subjects:${l2Key.slice(end)}`;
};

export function checkSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== 'string' || subject === '' || subject.length > 1024) throw new CacheError('a subject must be a non-empty string of at most 1024 characters');
}

/**
 * Records that `subject` produced (a write) or used (`read`: a hit) the value at `l2Key`, kept
 * `keepMs` (inside an L2 call).
 */
export async function indexSubject(parts: CacheParts, c: RedisClient, subject: string, l2Key: string, keepMs: number, read = false): Promise<void> {
  const index = indexKey(parts, subject);
  const owners = ownersKey(l2Key);
  const now = Date.now();
  // A value with no owners yet, read: it was written without a subject.
  if (read && (await c.exists(owners)) === 0) await c.sadd(owners, ANONYMOUS);
  await Promise.all([
    c.zadd(index, now + keepMs, l2Key), c.pexpire(index, keepMs, 'GT'), c.pexpire(index, keepMs, 'NX'),
    c.sadd(owners, subjectHash(subject)), c.pexpire(owners, keepMs, 'GT'), c.pexpire(owners, keepMs, 'NX'),
    c.zremrangebyscore(index, '-inf', now),
  ]);
  const size = await c.zcard(index);
  if (size > MAX_ENTRIES) {
    const popped = (await c.zpopmin(index, size - MAX_ENTRIES)).filter((_, i) => i % 2 === 0);
    await takeOff(parts, c, subjectHash(subject), popped);
  }
}

const notedIn = (parts: CacheParts): LRUCache<string, true> => {
  let seen = noted.get(parts);
  if (!seen) noted.set(parts, (seen = new LRUCache({ max: NOTED })));
  return seen;
};

/** A value written with `{ subject }`: that subject's later hits on it need no recording. */
export function markNoted(parts: CacheParts, type: ContentType, key: string, subject: string): void {
  notedIn(parts).set(`${type}\0${subject}\0${key}`, true);
}

/** A hit read with `{ subject }`: recorded once per (value, subject) in this process, in the background. */
export function noteUse(parts: CacheParts, type: ContentType, key: string, subject: string, l2Key?: string): void {
  const { l2 } = parts;
  if (!l2 || typeof subject !== 'string' || subject === '' || subject.length > 1024) return;
  const seen = notedIn(parts);
  const pair = `${type}\0${subject}\0${key}`;
  if (seen.has(pair)) return;
  seen.set(pair, true);
  const policy = policyFor(type, parts.config.policies[type]);
  const keepMs = (policy.ttlSeconds + policy.staleGraceSeconds) * 1000;
  const name = l2Key ?? parts.layout.entry(type, key).l2Key;
  void l2.call((c) => indexSubject(parts, c, subject, name, keepMs, true)).then((r) => {
    if (r === FAILED) seen.delete(pair);
  });
}

/** Takes the subject (by hash) off these values; removes those nobody else used from every layer. */
async function takeOff(parts: CacheParts, c: RedisClient, hash: string, l2Keys: readonly string[]): Promise<SubjectErasure> {
  const { l1, l3, layout, bus } = parts;
  const left = await Promise.all(
    l2Keys.map(async (l2Key) => {
      const owners = ownersKey(l2Key);
      await c.srem(owners, hash);
      return c.scard(owners);
    }),
  );
  const gone = l2Keys.filter((_, i) => left[i] === 0);
  // One script per bucket: a script's keys must share a slot.
  const byChannel = new Map<string, string[]>();
  for (const l2Key of gone) {
    const channel = layout.channelOf(l2Key);
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), l2Key]);
  }
  await Promise.all([
    ...[...byChannel].map(([channel, keys]) => removeRecords(c, channel, keys, bus ? bus.encode(keys) : '')),
    ...gone.map((l2Key) => c.del(ownersKey(l2Key))),
  ]);
  let inL1 = 0;
  let l3Refs = 0;
  let l3Blobs = 0;
  for (const l2Key of gone) {
    if (l1?.dropL2Key(l2Key)) inL1 += 1;
    const removed = await l3?.deleteOwned(l2Key);
    if (removed?.ref) l3Refs += 1;
    if (removed?.blob) l3Blobs += 1;
  }
  return { l2: gone.length, l1: inL1, l3Refs, l3Blobs, shared: l2Keys.length - gone.length };
}

/**
 * Removes what the subject's input produced from every layer and instance (see the file comment).
 * Throws when Redis cannot be reached: an erasure is not queued for later.
 */
export async function eraseSubject(parts: CacheParts, subject: string): Promise<SubjectErasure> {
  checkSubject(subject);
  const { l2 } = parts;
  noted.get(parts)?.clear();
  if (!l2) return { l2: 0, l1: 0, l3Refs: 0, l3Blobs: 0, shared: 0 };
  const index = indexKey(parts, subject);
  const erased = await l2.call(async (c) => {
    const members = await c.zrange(index, 0, -1);
    const result = await takeOff(parts, c, subjectHash(subject), members);
    await c.del(index);
    return result;
  });
  if (erased === FAILED) throw new CacheError('eraseSubject: Redis (L2) is unreachable; nothing was erased there, try again');
  return erased;
}

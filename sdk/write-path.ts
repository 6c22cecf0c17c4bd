/**
 * Writing a value to every layer its policy (and the call's skips) names,
 * and taking values out. L3 first (the blob must exist before anyone can be
 * handed its name), then L1, then L2 in one script that also announces the
 * change to the other instances and releases the compute lock
 * (./l2-scripts.ts). Deletes and tag invalidations likewise change Redis and
 * announce in one script per bucket. A change that could not reach Redis
 * (down, breaker open) is kept for replay (./recovery-queue.ts), and while
 * changes are kept, later ones queue behind them: this instance's changes
 * reach Redis in the order it made them. A change Redis refuses (./l2.ts
 * Refused) is logged and dropped instead: it would be refused again.
 */
import type { CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import type { ComputeDecisions } from './compute-context.js';
import { ValueTooLargeError } from './errors.js';
import type { EntryKeys } from './key-layout.js';
import type { L1Entry } from './l1.js';
import { FAILED, Refused, type Failed, type RedisClient } from './l2.js';
import { releaseLock, removeRecords } from './l2-scripts.js';
import type { BlobRef } from './l3/blob-store.js';
import { outcomeOf, type ChangeOutcome } from './recovery-queue.js';
import { checkSubject, indexSubject, markNoted } from './subject-index.js';
import { encodeValue, packRecord } from './value-codec.js';

export interface StoreOptions {
  /** Wait for the L2 write (else it is written behind and the caller goes on). */
  readonly awaitL2: boolean;
  /** The compute lock to release in the same script ('' when none is held). */
  readonly lockToken: string;
  /** What the compute function decided (adaptive caching), if the value comes from one. */
  readonly decisions?: ComputeDecisions;
}

/** Writes every layer the policy names; returns the L3 blob for byte values of L3 types. */
export async function store(parts: CacheParts, ctx: CallContext, value: unknown, { awaitL2, lockToken, decisions }: StoreOptions): Promise<BlobRef | undefined> {
  const { config, l2, l3 } = parts;
  const { policy, options, keys } = ctx;
  if (decisions?.skipped) {
    // The compute said not to keep this value: nothing is written, and others may compute again.
    if (lockToken) void unlock(parts, keys, lockToken);
    return undefined;
  }
  const ttlSeconds = decisions?.ttlSeconds ?? options?.ttlSeconds ?? policy.ttlSeconds;
  const given = decisions?.tags ?? options?.tags;
  const tags = ctx.namespace ? ctx.namespace.tagsFor(given) : given;
  if (options?.subject !== undefined) {
    checkSubject(options.subject);
    markNoted(parts, ctx.type, ctx.key, options.subject);
  }
  const ttlMs = ttlSeconds * 1000 * (1 - config.ttlJitter * Math.random());
  const expiresAt = Math.round(Date.now() + ttlMs);
  const body = encodeValue(value);
  if (body.length > config.maxValueBytes) throw new ValueTooLargeError(body.length, config.maxValueBytes);

  let blob: BlobRef | undefined;
  if (l3 && policy.l3 && value instanceof Uint8Array) blob = await putBlob(parts, keys.l2Key, value, expiresAt);
  fillL1(parts, ctx, value, body.length, expiresAt, ttlMs, tags, blob);

  if (!l2 || !policy.l2) return blob;
  if (options?.skipL2Write) {
    if (lockToken) void unlock(parts, keys, lockToken);
    return blob;
  }
  const record = packRecord(body, expiresAt, {
    compressAbove: config.compressionEnabled ? config.compressionThresholdBytes : undefined,
    keyring: policy.encrypt ? parts.keyring : undefined,
    aad: keys.l2Key,
    // A TTL other than the type's travels with the value, so readers refresh it at the right point.
    ttlMs: ttlSeconds === policy.ttlSeconds ? undefined : ttlMs,
  });
  const staleUntil = expiresAt + policy.staleGraceSeconds * 1000;
  const message = options?.skipBusNotify ? '' : parts.bus!.encode([keys.l2Key]);
  const write = (token: string): Promise<ChangeOutcome> => {
    const keepMs = Math.ceil(staleUntil - Date.now());
    if (keepMs <= 0) return Promise.resolve('done'); // expired while kept: nothing left to write
    return ctx.trace.layer('l2', (): Promise<unknown> => {
      const written = l2.write(keys, record, keepMs, token, message);
      if (!tags?.length && !options?.subject) return written;
      // Sent after the value (`attempt` sends the queued write first), as one change with it.
      const indexed = l2.attempt((c) => Promise.all([
        tags?.length ? tagEntry(parts, c, keys.l2Key, tags, keepMs) : undefined,
        options?.subject ? indexSubject(parts, c, options.subject, keys.l2Key, keepMs) : undefined,
      ]));
      return Promise.all([written, indexed]).then(([w, i]) => (w === FAILED || i === FAILED ? FAILED : w instanceof Refused ? w : i));
    }).then(outcomeOf);
  };
  const locked = lockToken ? { first: () => write(lockToken), unlock: () => void unlock(parts, keys, lockToken) } : undefined;
  const written = change(parts, keys.l2Key, () => write(''), record.length, locked);
  if (awaitL2) await written;
  return blob;
}

/** Adds an L2 key to its tags' sets; each tag set is one key, so each command stays in its own slot. */
function tagEntry(parts: CacheParts, c: RedisClient, l2Key: string, tags: readonly string[], keepMs: number): Promise<unknown> {
  return Promise.all(
    tags.map((tag) => {
      const tagKey = parts.layout.tag(tag);
      // The set lives as long as its longest-lived member.
      return Promise.all([c.sadd(tagKey, l2Key), c.pexpire(tagKey, keepMs, 'GT'), c.pexpire(tagKey, keepMs, 'NX')]);
    }),
  );
}

/**
 * Makes one L2 change (`run`) for entry `id`: now, or, while older changes wait for replay, behind
 * them. `locked`: a compute lock is held; the first attempt (`first`) releases it in the same
 * script, and a change that is queued or refused instead releases it apart (`unlock`), so no one
 * waits out a lease on it.
 */
async function change(
  parts: CacheParts,
  id: string,
  run: () => Promise<ChangeOutcome>,
  bytes: number,
  locked?: { readonly first: () => Promise<ChangeOutcome>; readonly unlock: () => void },
): Promise<void> {
  const { recovery } = parts;
  if (recovery && recovery.size > 0) {
    recovery.keep(id, run, bytes);
    locked?.unlock();
    await recovery.replay();
    return;
  }
  const outcome = await (locked?.first ?? run)();
  if (outcome === 'done') return;
  if (outcome instanceof Refused) locked?.unlock();
  notTaken(parts, id, outcome, run, bytes);
}

/** A first try that did not land: kept for replay if Redis could not be reached; said and dropped if it refused. */
function notTaken(parts: CacheParts, id: string, outcome: 'unreachable' | Refused, run: () => Promise<ChangeOutcome>, bytes: number): void {
  parts.metrics.layerErrors.l2 += 1;
  if (outcome === 'unreachable') parts.recovery?.keep(id, run, bytes);
  else parts.recovery?.refused(outcome);
}

function unlock(parts: CacheParts, keys: EntryKeys, token: string): Promise<unknown> {
  return parts.l2!.call((c) => releaseLock(c, keys.lockKey, token));
}

/** Puts a value in L1 (unless the policy or the call skips it); returns the entry. */
export function fillL1(
  parts: CacheParts,
  ctx: CallContext,
  value: unknown,
  encodedBytes: number,
  expiresAt: number,
  ttlMs: number,
  tags: readonly string[] | undefined,
  blob: BlobRef | undefined,
): L1Entry | undefined {
  const { l1, config } = parts;
  if (!l1 || !ctx.policy.l1 || ctx.options?.skipL1) return undefined;
  const { key, type, keys, policy } = ctx;
  const threshold = policy.eagerRefreshThreshold;
  const entry: L1Entry = {
    type,
    value,
    // Charged: the encoded value, the keys (the LRU key, the L2 key in the reverse index; two
    // bytes a character at worst) and fixed overhead.
    size: encodedBytes + 2 * (key.length + keys.l2Key.length) + 224,
    expiresAt: Math.min(expiresAt, Date.now() + config.l1TtlSeconds * 1000),
    valueExpiresAt: expiresAt,
    ttlMs,
    refreshAt: threshold === undefined ? Infinity : expiresAt - (1 - threshold) * ttlMs,
    refreshing: false,
    staleUntil: expiresAt + policy.staleGraceSeconds * 1000,
    l2Key: keys.l2Key,
    tags,
    blob,
    hit: { value, source: 'l1', blob },
  };
  l1.set(key, entry);
  return entry;
}

/** Puts bytes in L3; a failure is counted and logged, and the value is served without a blob. */
export async function putBlob(parts: CacheParts, l2Key: string, bytes: Uint8Array, expiresAt: number): Promise<BlobRef | undefined> {
  try {
    return await parts.l3!.put(l2Key, bytes, expiresAt);
  } catch (err) {
    parts.metrics.layerErrors.l3 += 1;
    parts.config.logger.warn({ err: (err as Error).message }, 'L3 write failed');
    return undefined;
  }
}

/** Removes an entry from every layer (but those the call skips) and announces it. */
export async function remove(parts: CacheParts, ctx: CallContext): Promise<void> {
  const { l1, l2, l3, bus } = parts;
  const { options } = ctx;
  const { l2Key, channel } = ctx.keys;
  if (!options?.skipL1) l1?.delete(ctx.type, ctx.key);
  if (l2 && ctx.policy.l2 && !options?.skipL2Write) {
    const message = options?.skipBusNotify ? '' : bus!.encode([l2Key]);
    await change(parts, l2Key, () => ctx.trace.layer('l2', () => l2.attempt((c) => removeRecords(c, channel, [l2Key], message))).then(outcomeOf), 0);
  }
  if (l3 && ctx.policy.l3) await l3.delete(l2Key);
}

/**
 * Drops every value set with this tag, in every layer and instance; resolves to how many L2 keys it
 * named (0 when Redis could not say: the invalidation is then kept and replayed in order, unless
 * Redis refused it).
 */
export async function invalidateTag(parts: CacheParts, tag: string): Promise<number> {
  const { l1, l2 } = parts;
  l1?.dropTag(tag);
  if (!l2) return 0;
  const id = `tag\0${tag}`;
  const replay = async () => outcomeOf(await removeTagged(parts, tag));
  if (parts.recovery && parts.recovery.size > 0) {
    // Behind the changes already kept, in order; how many keys it named is then not known.
    await change(parts, id, replay, 0);
    return 0;
  }
  const removed = await removeTagged(parts, tag);
  if (typeof removed === 'number') return removed;
  notTaken(parts, id, removed === FAILED ? 'unreachable' : removed, replay, 0);
  return 0;
}

/** The L2 (and L3) side of a tag invalidation: how many keys the tag named, or why not. */
async function removeTagged(parts: CacheParts, tag: string): Promise<number | Failed | Refused> {
  const { l1, l2, l3, layout, bus } = parts;
  const tagKey = layout.tag(tag);
  const members = await l2!.attempt((c) => c.smembers(tagKey));
  if (members === FAILED || members instanceof Refused) return members;
  for (const l2Key of members) l1?.dropL2Key(l2Key);
  // One script per bucket: a script's keys must share a slot.
  const byChannel = new Map<string, string[]>();
  for (const l2Key of members) {
    const channel = layout.channelOf(l2Key);
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), l2Key]);
  }
  const done = await l2!.attempt((c) =>
    Promise.all([...[...byChannel].map(([channel, keys]) => removeRecords(c, channel, keys, bus!.encode(keys))), c.del(tagKey)]),
  );
  if (done === FAILED || done instanceof Refused) return done;
  if (l3) await Promise.all(members.map((k) => l3.delete(k)));
  return members.length;
}

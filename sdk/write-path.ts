/**
 * Writing a value to every layer its policy names, and taking values out.
 * L3 first (the blob must exist before anyone can be handed its name), then
 * L1, then L2 in one script that also announces the change to the other
 * instances and releases the compute lock (./l2-scripts.ts). Deletes and tag
 * invalidations likewise change Redis and announce in one script per bucket.
 */
import type { CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import { CacheError, InvalidKeyError, ValueTooLargeError } from './errors.js';
import { FAILED } from './l2.js';
import { removeRecords, writeRecord } from './l2-scripts.js';
import type { BlobRef } from './l3/blob-store.js';
import { encodeValue, packRecord } from './value-codec.js';

export interface StoreOptions {
  /** Wait for the L2 write (else it is written behind and the caller goes on). */
  readonly awaitL2: boolean;
  /** The compute lock to release in the same script ('' when none is held). */
  readonly lockToken: string;
}

/** Writes every layer the policy names; returns the L3 blob for byte values of L3 types. */
export async function store(parts: CacheParts, ctx: CallContext, value: unknown, { awaitL2, lockToken }: StoreOptions): Promise<BlobRef | undefined> {
  const { config, metrics, l2, l3 } = parts;
  const { policy, options, keys } = ctx;
  const ttlSeconds = options?.ttlSeconds ?? policy.ttlSeconds;
  if (!(ttlSeconds > 0)) throw new CacheError('ttlSeconds must be > 0');
  const tags = options?.tags;
  if (tags && !tags.every((t) => typeof t === 'string' && t !== '')) throw new InvalidKeyError('tags must be non-empty strings');
  const ttlMs = ttlSeconds * 1000 * (1 - config.ttlJitter * Math.random());
  const expiresAt = Math.round(Date.now() + ttlMs);
  const body = encodeValue(value);
  if (body.length > config.maxValueBytes) throw new ValueTooLargeError(body.length, config.maxValueBytes);

  let blob: BlobRef | undefined;
  if (l3 && policy.l3 && value instanceof Uint8Array) blob = await putBlob(parts, keys.l2Key, value, expiresAt);
  fillL1(parts, ctx, value, body.length, expiresAt, tags, blob);

  if (l2 && policy.l2) {
    const record = packRecord(body, expiresAt, {
      compressAbove: config.compressionEnabled ? config.compressionThresholdBytes : undefined,
      keyring: policy.encrypt ? parts.keyring : undefined,
      aad: keys.l2Key,
    });
    const keepMs = Math.ceil(ttlMs + policy.staleGraceSeconds * 1000);
    const message = parts.bus!.encode([keys.l2Key]);
    const written = l2.call((c) => writeRecord(c, keys, record, keepMs, lockToken, message)).then((r) => {
      if (r === FAILED) metrics.layerErrors.l2 += 1;
    });
    const tagged = tags?.length ? tagEntry(parts, keys.l2Key, tags, keepMs) : undefined;
    if (awaitL2) await Promise.all([written, tagged]);
  }
  return blob;
}

/** Adds an L2 key to its tags' sets; each tag set is one key, so each command stays in its own slot. */
function tagEntry(parts: CacheParts, l2Key: string, tags: readonly string[], keepMs: number): Promise<unknown> {
  return parts.l2!.call((c) =>
    Promise.all(
      tags.map((tag) => {
        const tagKey = parts.layout.tag(tag);
        // The set lives as long as its longest-lived member.
        return Promise.all([c.sadd(tagKey, l2Key), c.pexpire(tagKey, keepMs, 'GT'), c.pexpire(tagKey, keepMs, 'NX')]);
      }),
    ),
  );
}

export function fillL1(
  parts: CacheParts,
  ctx: CallContext,
  value: unknown,
  encodedBytes: number,
  expiresAt: number,
  tags: readonly string[] | undefined,
  blob: BlobRef | undefined,
): void {
  const { l1, config } = parts;
  if (!l1 || !ctx.policy.l1) return;
  const { key, type, keys } = ctx;
  l1.set(key, {
    type,
    value,
    // Charged: the encoded value, the keys (the LRU key, the L2 key in the reverse index; two
    // bytes a character at worst) and fixed overhead.
    size: encodedBytes + 2 * (key.length + keys.l2Key.length) + 192,
    expiresAt: Math.min(expiresAt, Date.now() + config.l1TtlSeconds * 1000),
    staleUntil: expiresAt + ctx.policy.staleGraceSeconds * 1000,
    l2Key: keys.l2Key,
    tags,
    blob,
    hit: { value, source: 'l1', blob },
  });
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

/** Removes an entry from every layer and announces it. */
export async function remove(parts: CacheParts, ctx: CallContext): Promise<void> {
  const { l1, l2, l3, bus } = parts;
  const { l2Key, channel } = ctx.keys;
  l1?.delete(ctx.type, ctx.key);
  if (l2 && ctx.policy.l2) {
    if ((await l2.call((c) => removeRecords(c, channel, [l2Key], bus!.encode([l2Key])))) === FAILED) parts.metrics.layerErrors.l2 += 1;
  }
  if (l3 && ctx.policy.l3) await l3.delete(l2Key);
}

/** Drops every value set with this tag, in every layer and instance; resolves to how many L2 keys it named. */
export async function invalidateTag(parts: CacheParts, tag: string): Promise<number> {
  const { l1, l2, l3, layout, bus } = parts;
  l1?.dropTag(tag);
  if (!l2) return 0;
  const tagKey = layout.tag(tag);
  const members = await l2.call((c) => c.smembers(tagKey));
  if (members === FAILED) return 0;
  for (const l2Key of members) l1?.dropL2Key(l2Key);
  // One script per bucket: a script's keys must share a slot.
  const byChannel = new Map<string, string[]>();
  for (const l2Key of members) {
    const channel = layout.channelOf(l2Key);
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), l2Key]);
  }
  await l2.call((c) =>
    Promise.all([...[...byChannel].map(([channel, keys]) => removeRecords(c, channel, keys, bus!.encode(keys))), c.del(tagKey)]),
  );
  if (l3) await Promise.all(members.map((k) => l3.delete(k)));
  return members.length;
}

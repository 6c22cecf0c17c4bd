/**
 * The read path below L1's fast path, by tier: L1 with options, L2, L3.
 * What a lower layer has is promoted to the layers above it on the way back.
 * A record L2 holds past its logical expiry (kept for the stale grace
 * period) is not a hit, but it is kept as the stale stand-in a failing
 * compute may fall back to.
 */
import { performance } from 'node:perf_hooks';
import type { CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import type { FetchResult } from './fetch-result.js';
import { FAILED } from './l2.js';
import { decodeValue, unpackRecord } from './value-codec.js';
import { fillL1, putBlob } from './write-path.js';

/** A value past its freshness that may still stand in for a failed compute. */
export interface Stale {
  readonly value: unknown;
}

/** What the layers below the fast path found: a result, or at most a stale value. */
export type Lookup = { readonly result: FetchResult<unknown> } | { readonly stale: Stale | undefined };

/** L1 on the slow path (a call with options): a fresh entry is a hit, one within its grace a stale stand-in. */
export function readL1(parts: CacheParts, ctx: CallContext, now: number): Lookup {
  const { l1, metrics } = parts;
  if (!l1 || !ctx.policy.l1) return { stale: undefined };
  const entry = l1.get(ctx.type, ctx.key);
  if (entry && entry.expiresAt > now) {
    metrics.layerHits.l1 += 1;
    return { result: entry.hit };
  }
  metrics.layerMisses.l1 += 1;
  return { stale: entry && entry.staleUntil > now ? entry : undefined };
}

/** One L2 GET (no lock): for `get`, which has nothing to compute, and for lock waiters. */
export async function readL2(parts: CacheParts, ctx: CallContext, now: number): Promise<Lookup> {
  const { l2, metrics } = parts;
  if (!l2 || !ctx.policy.l2) return { stale: undefined };
  const t0 = performance.now();
  const record = await l2.call((c) => c.getBuffer(ctx.keys.l2Key));
  if (record === FAILED) {
    metrics.layerErrors.l2 += 1;
    return { stale: undefined };
  }
  return promoteL2(parts, ctx, record, now, t0);
}

/**
 * A record read from L2 (by GET or by the read-or-lock script): fresh, it is a hit, promoted
 * to L1 (and to this instance's L3 for bytes, so a URL can be signed for it); expired, stale.
 */
export async function promoteL2(parts: CacheParts, ctx: CallContext, record: Buffer | null, now: number, t0: number): Promise<Lookup> {
  const { metrics } = parts;
  const decoded = record === null ? undefined : decodeRecord(parts, ctx, record);
  if (!decoded || decoded.expiresAt <= now) {
    metrics.layerMisses.l2 += 1;
    return { stale: decoded };
  }
  metrics.record('l2', (performance.now() - t0) * 1000);
  metrics.layerHits.l2 += 1;
  const { value, expiresAt } = decoded;
  const blob = ctx.policy.l3 && parts.l3 && value instanceof Uint8Array ? await putBlob(parts, ctx.keys.l2Key, value, expiresAt) : undefined;
  fillL1(parts, ctx, value, record!.length, expiresAt, undefined, blob);
  return { result: { value, source: 'l2', blob } };
}

/** L3: a live ref to a blob this instance holds (bytes survive an L2 eviction or flush). */
export async function readL3(parts: CacheParts, ctx: CallContext, now: number): Promise<FetchResult<unknown> | undefined> {
  const { l3, metrics, config } = parts;
  if (!l3 || !ctx.policy.l3) return undefined;
  const t0 = performance.now();
  try {
    const found = await l3.get(ctx.keys.l2Key, now);
    if (!found) {
      metrics.layerMisses.l3 += 1;
      return undefined;
    }
    metrics.record('l3', (performance.now() - t0) * 1000);
    metrics.layerHits.l3 += 1;
    fillL1(parts, ctx, found.bytes, found.bytes.byteLength, found.expiresAt, undefined, found.ref);
    return { value: found.bytes, source: 'l3', blob: found.ref };
  } catch (err) {
    metrics.layerErrors.l3 += 1;
    config.logger.warn({ err: (err as Error).message }, 'L3 read failed');
    return undefined;
  }
}

function decodeRecord(parts: CacheParts, ctx: CallContext, record: Buffer): { value: unknown; expiresAt: number } | undefined {
  try {
    const { body, expiresAt } = unpackRecord(record, parts.keyring, ctx.keys.l2Key);
    return { value: decodeValue(body), expiresAt };
  } catch (err) {
    // A record we cannot read (rotated-out key, tampering, another app's key, an older format) is a miss.
    parts.metrics.layerErrors.l2 += 1;
    parts.config.logger.warn({ err: (err as Error).message }, 'unreadable L2 record ignored');
    return undefined;
  }
}

/**
 * The read path below L1's fast path, by tier: L1 with options, L2, L3.
 * What a lower layer has is promoted to the layers above it on the way back.
 * A record L2 holds past its logical expiry (kept for the stale grace
 * period) is not a hit, but it is kept as the stale stand-in a failing or
 * slow compute may fall back to. A hit past the eager refresh threshold says
 * so (`refreshFrom`), for callers that have a compute function to refresh it.
 */
import { performance } from 'node:perf_hooks';
import type { CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import type { FetchResult } from './fetch-result.js';
import type { L1Entry } from './l1.js';
import { FAILED } from './l2.js';
import { decodeValue, unpackRecord } from './value-codec.js';
import { fillL1, putBlob } from './write-path.js';

/** A value past its freshness that may still stand in for a failed or slow compute. */
export interface Stale {
  readonly value: unknown;
}

/** A fresh hit; `refreshFrom` (the value's expiry) when it is past its eager refresh threshold. */
export interface Hit {
  readonly result: FetchResult<unknown>;
  readonly refreshFrom?: number;
  /** The L1 entry holding the value, if any (marked once its refresh starts). */
  readonly entry?: L1Entry;
}

/** What the layers below the fast path found: a hit, or at most a stale value. */
export type Lookup = Hit | { readonly stale: Stale | undefined };

/** The call's eager refresh threshold: the option, else the policy's. */
function refreshThreshold(ctx: CallContext): number | undefined {
  return ctx.options?.eagerRefreshThreshold ?? ctx.policy.eagerRefreshThreshold;
}

/** True when a value expiring at `expiresAt` after a TTL of `ttlMs` is past the call's refresh threshold. */
function refreshDue(ctx: CallContext, expiresAt: number, ttlMs: number, now: number): boolean {
  const t = refreshThreshold(ctx);
  return t !== undefined && now >= expiresAt - (1 - t) * ttlMs;
}

/** L1 on the slow path (a call with options): a fresh entry is a hit, one within its grace a stale stand-in. */
export function readL1(parts: CacheParts, ctx: CallContext, now: number): Lookup {
  const { l1, metrics, events } = parts;
  if (!l1 || !ctx.policy.l1 || ctx.options?.skipL1) return { stale: undefined };
  const entry = l1.get(ctx.type, ctx.key);
  if (entry && entry.expiresAt > now) {
    metrics.layerHits.l1 += 1;
    ctx.trace.mark('l1', true);
    if (events.has('hit')) events.emit('hit', { key: ctx.key, contentType: ctx.type, layer: 'l1' });
    const due = !entry.refreshing && refreshDue(ctx, entry.valueExpiresAt, entry.ttlMs, now);
    return due ? { result: entry.hit, refreshFrom: entry.valueExpiresAt, entry } : { result: entry.hit };
  }
  metrics.layerMisses.l1 += 1;
  ctx.trace.mark('l1', false);
  return { stale: entry && entry.staleUntil > now ? entry : undefined };
}

/** True when the call reads L2. */
export function readsL2(parts: CacheParts, ctx: CallContext): boolean {
  return parts.l2 !== undefined && ctx.policy.l2 && !ctx.options?.skipL2Read;
}

/** One L2 GET (no lock): for `get`, which has nothing to compute. */
export async function readL2(parts: CacheParts, ctx: CallContext, now: number): Promise<Lookup> {
  const { l2, metrics } = parts;
  if (!readsL2(parts, ctx)) return { stale: undefined };
  const epoch = parts.coherence.epoch;
  const t0 = performance.now();
  const record = await ctx.trace.layer('l2', () => l2!.get(ctx.keys.l2Key));
  if (record === FAILED) {
    metrics.layerErrors.l2 += 1;
    return { stale: undefined };
  }
  return promoteL2(parts, ctx, record, now, t0, epoch);
}

/**
 * A record read from L2 (by GET or by the read-or-lock script): fresh, it is a hit, promoted
 * to L1 (and to this instance's L3 for bytes, so a URL can be signed for it); expired, stale.
 * `epoch` is the coherence epoch when the read was sent: if the invalidation bus had a gap
 * since, the record may predate an invalidation this instance missed, and is not put in L1.
 */
export async function promoteL2(parts: CacheParts, ctx: CallContext, record: Buffer | null, now: number, t0: number, epoch: number): Promise<Lookup> {
  const { metrics, events } = parts;
  const decoded = record === null ? undefined : decodeRecord(parts, ctx, record);
  if (!decoded || decoded.expiresAt <= now) {
    metrics.layerMisses.l2 += 1;
    return { stale: decoded };
  }
  metrics.record('l2', (performance.now() - t0) * 1000);
  metrics.layerHits.l2 += 1;
  if (events.has('hit')) events.emit('hit', { key: ctx.key, contentType: ctx.type, layer: 'l2' });
  const { value, expiresAt } = decoded;
  const ttlMs = decoded.ttlMs ?? nominalTtlMs(ctx);
  const blob = ctx.policy.l3 && parts.l3 && value instanceof Uint8Array ? await putBlob(parts, ctx.keys.l2Key, value, expiresAt) : undefined;
  const entry = epoch === parts.coherence.epoch ? fillL1(parts, ctx, value, record!.length, expiresAt, ttlMs, undefined, blob) : undefined;
  const result: FetchResult<unknown> = { value, source: 'l2', blob };
  return refreshDue(ctx, expiresAt, ttlMs, now) ? { result, refreshFrom: expiresAt, entry } : { result };
}

/** L3: a live ref to a blob this instance holds (bytes survive an L2 eviction or flush). */
export async function readL3(parts: CacheParts, ctx: CallContext, now: number): Promise<FetchResult<unknown> | undefined> {
  const { l3, metrics, config, events } = parts;
  if (!l3 || !ctx.policy.l3) return undefined;
  const t0 = performance.now();
  try {
    const found = await ctx.trace.layer('l3', () => l3.get(ctx.keys.l2Key, now));
    if (!found) {
      metrics.layerMisses.l3 += 1;
      return undefined;
    }
    metrics.record('l3', (performance.now() - t0) * 1000);
    metrics.layerHits.l3 += 1;
    if (events.has('hit')) events.emit('hit', { key: ctx.key, contentType: ctx.type, layer: 'l3' });
    fillL1(parts, ctx, found.bytes, found.bytes.byteLength, found.expiresAt, nominalTtlMs(ctx), undefined, found.ref);
    return { value: found.bytes, source: 'l3', blob: found.ref };
  } catch (err) {
    metrics.layerErrors.l3 += 1;
    config.logger.warn({ err: (err as Error).message }, 'L3 read failed');
    return undefined;
  }
}

/** The TTL of a value whose record does not carry one: its type's (./value-codec.ts). */
function nominalTtlMs(ctx: CallContext): number {
  return ctx.policy.ttlSeconds * 1000;
}

function decodeRecord(parts: CacheParts, ctx: CallContext, record: Buffer): { value: unknown; expiresAt: number; ttlMs: number | undefined } | undefined {
  try {
    const { body, expiresAt, ttlMs } = unpackRecord(record, parts.keyring, ctx.keys.l2Key);
    return { value: decodeValue(body), expiresAt, ttlMs };
  } catch (err) {
    // A record we cannot read (rotated-out key, tampering, another app's key, an older format) is a miss.
    parts.metrics.layerErrors.l2 += 1;
    parts.config.logger.warn({ err: (err as Error).message }, 'unreadable L2 record ignored');
    return undefined;
  }
}

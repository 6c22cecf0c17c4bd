/**
 * L1: this process's memory, one lru-cache bounded by bytes. Entries carry
 * their own logical expiry (checked on read) instead of lru-cache's TTL
 * timers, and the hashed L2 key they mirror, so an invalidation naming that
 * L2 key (from another instance) finds them.
 *
 * The hit path is one lru-cache `get` on the caller's own key: entries are
 * stored under the bare key and carry their content type, which a hit
 * compares. Building a `type + key` string per lookup would cost more than
 * the lookup (a fresh string must be hashed). The same key under a second
 * content type (rare: the integration service's keys already differ per
 * type) is stored under `type \0 key` instead, and only while such entries
 * exist does a type mismatch look there.
 */
import { LRUCache } from 'lru-cache';
import type { FetchResult } from './fetch-result.js';
import type { BlobRef } from './l3/blob-store.js';

export interface L1Entry {
  readonly type: string;
  readonly value: unknown;
  /** Bytes charged against the L1 bound: the encoded size plus bookkeeping. */
  readonly size: number;
  /** Fresh in L1 until (ms since epoch): the value's expiry, capped by l1TtlSeconds. */
  readonly expiresAt: number;
  /** The value's own logical expiry (ms), as in its L2 record. */
  readonly valueExpiresAt: number;
  /** The value's TTL (ms), for eager refresh thresholds given per call. */
  readonly ttlMs: number;
  /** When a hit starts an eager refresh (ms), by the policy in force when filled; Infinity for never. */
  readonly refreshAt: number;
  /** Set once a background refresh of this entry started, so hits start it only once. */
  refreshing: boolean;
  /** Servable as stale, if recomputing fails or is slow, until (ms). */
  readonly staleUntil: number;
  readonly l2Key: string;
  readonly tags: readonly string[] | undefined;
  /** For values also in L3: the blob's name and size. */
  readonly blob: BlobRef | undefined;
  /** The result an L1 hit returns, built once per entry instead of once per hit. */
  readonly hit: FetchResult<unknown>;
}

export interface L1 {
  get(type: string, key: string): L1Entry | undefined;
  set(key: string, entry: L1Entry): void;
  delete(type: string, key: string): void;
  /** Drops the entry mirroring this L2 key, if any. */
  dropL2Key(l2Key: string): boolean;
  dropTag(tag: string): number;
  clear(): void;
  readonly bytes: number;
  readonly entries: number;
  readonly maxBytes: number;
}

export function createL1(maxBytes: number, onEvict: () => void): L1 {
  const byL2Key = new Map<string, string>();
  /** Keys of entries stored as `type \0 key` because another type holds the bare key. */
  const shadowKeys = new Set<string>();
  const lru = new LRUCache<string, L1Entry>({
    maxSize: maxBytes,
    sizeCalculation: (entry) => entry.size,
    dispose: (entry, lruKey, reason) => {
      if (byL2Key.get(entry.l2Key) === lruKey) byL2Key.delete(entry.l2Key);
      shadowKeys.delete(lruKey);
      if (reason === 'evict') onEvict();
    },
  });
  const shadowKey = (type: string, key: string): string => `${type}\0${key}`;
  /** Where (type, key) lives, or would live if set now. */
  const slotOf = (type: string, key: string): string => {
    if (shadowKeys.size > 0 && shadowKeys.has(shadowKey(type, key))) return shadowKey(type, key);
    const bare = lru.peek(key);
    return bare === undefined || bare.type === type ? key : shadowKey(type, key);
  };
  return {
    get(type, key) {
      const entry = lru.get(key);
      if (entry !== undefined && entry.type === type) return entry;
      return shadowKeys.size === 0 ? undefined : lru.get(shadowKey(type, key));
    },
    set(key, entry) {
      if (entry.size > maxBytes) return; // would evict everything and still not fit
      const lruKey = slotOf(entry.type, key);
      lru.set(lruKey, entry);
      if (lruKey !== key) shadowKeys.add(lruKey);
      byL2Key.set(entry.l2Key, lruKey);
    },
    delete(type, key) {
      lru.delete(slotOf(type, key));
    },
    dropL2Key(l2Key) {
      const lruKey = byL2Key.get(l2Key);
      return lruKey !== undefined && lru.delete(lruKey);
    },
    dropTag(tag) {
      let dropped = 0;
      for (const [lruKey, entry] of lru.entries()) {
        if (entry.tags?.includes(tag) && lru.delete(lruKey)) dropped += 1;
      }
      return dropped;
    },
    clear() {
      lru.clear();
      byL2Key.clear();
      shadowKeys.clear();
    },
    get bytes() {
      return lru.calculatedSize;
    },
    get entries() {
      return lru.size;
    },
    maxBytes,
  };
}

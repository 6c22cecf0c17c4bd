/**
 * L1: this process's memory, an lru-cache bounded by bytes. Entries carry
 * their own logical expiry (checked on read) instead of lru-cache's TTL
 * timers, and the hashed L2 key they mirror, so an invalidation naming that
 * L2 key (from another instance) finds them.
 *
 * The LRU is keyed by `${type}\0${key}`, but a hit never builds that string:
 * a per-type map from the caller's key to the stored composite key (whose
 * hash V8 has cached) answers first. Hashing a freshly concatenated string
 * costs more than the LRU lookup itself, and the per-type map doubles as the
 * "is it here at all" check for misses.
 */
import { LRUCache } from 'lru-cache';
import type { BlobRef } from './l3/blob-store.js';

export interface L1Entry {
  readonly value: unknown;
  /** Bytes charged against the L1 bound: the encoded size plus bookkeeping. */
  readonly size: number;
  /** Fresh until (ms since epoch). */
  readonly expiresAt: number;
  /** Servable as stale, if recomputing fails, until (ms). */
  readonly staleUntil: number;
  readonly l2Key: string;
  readonly tags: readonly string[] | undefined;
  /** For values also in L3: the blob's name and size. */
  readonly blob: BlobRef | undefined;
}

interface Stored extends L1Entry {
  readonly type: string;
  readonly key: string;
}

export interface L1 {
  get(type: string, key: string): L1Entry | undefined;
  set(type: string, key: string, entry: L1Entry): void;
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
  const byType = new Map<string, Map<string, string>>();
  const keysOf = (type: string): Map<string, string> => {
    let keys = byType.get(type);
    if (!keys) byType.set(type, (keys = new Map()));
    return keys;
  };
  const lru = new LRUCache<string, Stored>({
    maxSize: maxBytes,
    sizeCalculation: (entry) => entry.size,
    dispose: (entry, lruKey, reason) => {
      if (byL2Key.get(entry.l2Key) === lruKey) byL2Key.delete(entry.l2Key);
      const keys = byType.get(entry.type);
      if (keys?.get(entry.key) === lruKey) keys.delete(entry.key);
      if (reason === 'evict') onEvict();
    },
  });
  return {
    get(type, key) {
      const lruKey = byType.get(type)?.get(key);
      return lruKey === undefined ? undefined : lru.get(lruKey);
    },
    set(type, key, entry) {
      if (entry.size > maxBytes) return; // would evict everything and still not fit
      const lruKey = `${type}\0${key}`;
      lru.set(lruKey, { ...entry, type, key });
      keysOf(type).set(key, lruKey);
      byL2Key.set(entry.l2Key, lruKey);
    },
    delete(type, key) {
      const lruKey = byType.get(type)?.get(key);
      if (lruKey !== undefined) lru.delete(lruKey);
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
      byType.clear();
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

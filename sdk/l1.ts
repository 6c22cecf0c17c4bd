/**
 * L1: this process's memory, an lru-cache bounded by bytes. Entries carry
 * their own logical expiry (checked on read with one clock call) instead of
 * lru-cache's TTL timers, and the hashed L2 key they mirror, so an
 * invalidation naming that L2 key (from another instance) finds them.
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

export interface L1 {
  readonly lru: LRUCache<string, L1Entry>;
  /** L1 keys by the L2 key they mirror. */
  readonly byL2Key: Map<string, string>;
  set(key: string, entry: L1Entry): void;
  /** Drops the entry mirroring this L2 key, if any. */
  dropL2Key(l2Key: string): boolean;
  dropTag(tag: string): number;
  clear(): void;
}

export function createL1(maxBytes: number, onEvict: () => void): L1 {
  const byL2Key = new Map<string, string>();
  const lru = new LRUCache<string, L1Entry>({
    maxSize: maxBytes,
    sizeCalculation: (entry) => entry.size,
    dispose: (entry, key, reason) => {
      if (byL2Key.get(entry.l2Key) === key) byL2Key.delete(entry.l2Key);
      if (reason === 'evict') onEvict();
    },
  });
  return {
    lru,
    byL2Key,
    set(key, entry) {
      if (entry.size > maxBytes) return; // would evict everything and still not fit
      lru.set(key, entry);
      byL2Key.set(entry.l2Key, key);
    },
    dropL2Key(l2Key) {
      const key = byL2Key.get(l2Key);
      return key !== undefined && lru.delete(key);
    },
    dropTag(tag) {
      let dropped = 0;
      for (const [key, entry] of lru.entries()) {
        if (entry.tags?.includes(tag) && lru.delete(key)) dropped += 1;
      }
      return dropped;
    },
    clear() {
      lru.clear();
      byL2Key.clear();
    },
  };
}

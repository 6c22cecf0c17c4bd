/**
 * Where a cache entry lives in Redis. A caller's key never reaches Redis:
 * it is hashed (SHA-256), and every name below is built from the hash.
 *
 *   value        {prefix}{bb}{type}:{hash}
 *   lock         {prefix}{bb}lock:{type}:{hash}
 *   invalidation {prefix}{bb}invalidate          (a sharded pub/sub channel)
 *   tag          {prefix}tag:{sha256(tag)}        (a set of value keys)
 *
 * `{bb}` is a Redis Cluster hash tag: the hash's first two hex digits, one of
 * BUCKETS buckets. An entry's value, its lock and the channel announcing
 * its changes share the tag, so they share a slot: the read-or-lock and
 * write-and-unlock scripts touch one slot, and the SPUBLISH inside them goes
 * only to the shard that owns it (SSUBSCRIBE/SPUBLISH, Redis 7), never
 * broadcast to every node. Each instance subscribes to all BUCKETS channels.
 * On a single Redis the same names work unchanged.
 */
import { sha256Hex } from './keys.js';

/** Hash-tag buckets: 256 slots spread over the cluster's masters. */
export const BUCKETS = 256;

export interface EntryKeys {
  readonly l2Key: string;
  readonly lockKey: string;
  readonly channel: string;
}

export interface KeyLayout {
  entry(type: string, key: string): EntryKeys;
  tag(tag: string): string;
  /** The invalidation channel of the bucket a value key is in. */
  channelOf(l2Key: string): string;
  /** Every bucket's invalidation channel. */
  readonly channels: readonly string[];
}

export function createKeyLayout(prefix: string): KeyLayout {
  const bucketOf = (hash: string): string => `${prefix}{${hash.slice(0, 2)}}`;
  const channels = Array.from({ length: BUCKETS }, (_, i) => `${prefix}{${i.toString(16).padStart(2, '0')}}invalidate`);
  return {
    entry(type, key) {
      const hash = sha256Hex(key);
      const bucket = bucketOf(hash);
      return { l2Key: `${bucket}${type}:${hash}`, lockKey: `${bucket}lock:${type}:${hash}`, channel: `${bucket}invalidate` };
    },
    tag: (tag) => `${prefix}tag:${sha256Hex(tag)}`,
    // The prefix has no braces (config.ts checks), so the first '}' closes the bucket.
    channelOf: (l2Key) => `${l2Key.slice(0, l2Key.indexOf('}') + 1)}invalidate`,
    channels,
  };
}


/**
 * One cache call below the L1 fast path: the caller's key and content type,
 * the policy in force (the type's, with any per-call override), the options,
 * and the entry's Redis names, derived once. The read path, the compute
 * runner and the write path all take this instead of a row of parameters.
 */
import type { CachePolicy, ContentType } from './content-types.js';
import type { EntryKeys } from './key-layout.js';

export interface CacheCallOptions {
  /** Overrides the policy's TTL for this value. */
  readonly ttlSeconds?: number;
  /** Tags for invalidateTag. */
  readonly tags?: readonly string[];
  /** Overrides any policy field for this call. */
  readonly policy?: Partial<CachePolicy>;
}

export interface CallContext {
  readonly key: string;
  readonly type: ContentType;
  readonly policy: CachePolicy;
  readonly options: CacheCallOptions | undefined;
  readonly keys: EntryKeys;
}

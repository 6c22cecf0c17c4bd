/** What a cache read resolves to: the value, and which layer supplied it. */
import type { BlobRef } from './l3/blob-store.js';

/** 'stale' is a value served past its freshness because the compute failed (fail-safe). */
export type CacheSource = 'l1' | 'l2' | 'l3' | 'compute' | 'stale';

export interface FetchResult<T> {
  readonly value: T;
  readonly source: CacheSource;
  /** The L3 blob holding the value, for byte values of L3 content types. */
  readonly blob?: BlobRef;
}

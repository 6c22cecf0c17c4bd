/** teddycache SDK: the public API (package.json `exports` publishes this file only). */
export { createCache } from './create-cache.js';
export type { CacheHealth, MultiLayerCache, WarmEntry, WarmResult } from './cache.js';
export type { CacheCallOptions } from './call-context.js';
export type { CacheSource, FetchResult } from './fetch-result.js';
export type { ComputeContext, ComputeFn } from './compute-context.js';
export type { CacheEventListener, CacheEventMap, CacheEventName } from './events.js';
export type { CacheNamespace } from './namespace.js';
export { defaultConfig, resolveConfig, type CacheConfig, type CacheLogger } from './config.js';
export { ContentType, POLICIES, isContentType, policyFor, type CachePolicy } from './content-types.js';
export {
  CacheError, ConfigError, InvalidKeyError, InvalidOptionError, SerializationError, TimeoutError, UnknownContentTypeError, ValueTooLargeError,
} from './errors.js';
export { createCacheIntegrationService, type CacheIntegrationService, type CacheStep, type SubjectOptions, type VoiceClip } from './integration-service.js';
export type { SubjectErasure } from './subject-index.js';
export { aiResponseKey, CLIP_ID_BYTES, clipIdFor, emotionAnalysisKey, sha256Hex, transcriptionKey, voiceSynthesisDigest, voiceSynthesisKey } from './keys.js';
export type { LayerMetrics, PerformanceMetrics } from './metrics.js';
export { createLatencyHistogram, recordMicros, summarizeLatency, type Histogram, type LatencySummary } from './latency.js';
export { combineLatencyBuckets, countAtOrBelow, emptyLatencyBuckets, LATENCY_BUCKET_BOUNDS_MS, latencyBucketIndex, latencyQuantile } from './latency-buckets.js';
export { adviseCache, type Advice } from './advice.js';
export { redactUrl } from './redact-url.js';
export { readRedisTlsCa, redisEndpoints, type RedisEndpoints, type RedisNode } from './redis-endpoints.js';
export type { BreakerState } from './circuit-breaker.js';
export { isBlobName, type BlobRef, type BlobStore, type ByteRange } from './l3/blob-store.js';
export { createDirBlobStore } from './l3/dir-blob-store.js';
export { signClipUrl, verifyClipUrl, type ClipUrlCheck, type SignClipUrlOptions, type UrlKey } from './l3/signed-url.js';

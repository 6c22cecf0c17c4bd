/** teddycache SDK: the public API. */
export { createCache } from './create-cache.js';
export type { CacheCallOptions, CacheHealth, CacheSource, FetchResult, MultiLayerCache, WarmEntry, WarmResult } from './cache.js';
export { defaultConfig, resolveConfig, type CacheConfig, type CacheLogger } from './config.js';
export { ContentType, POLICIES, isContentType, policyFor, type CachePolicy } from './content-types.js';
export { CacheError, ConfigError, InvalidKeyError, SerializationError, UnknownContentTypeError, ValueTooLargeError } from './errors.js';
export { createCacheIntegrationService, type CacheIntegrationService } from './integration-service.js';
export { aiResponseKey, clipIdFor, sha256Hex, transcriptionKey, voiceSynthesisDigest, voiceSynthesisKey } from './keys.js';
export type { LatencySummary, LayerMetrics, PerformanceMetrics } from './metrics.js';
export { adviseCache, type Advice } from './advice.js';
export type { BreakerState } from './circuit-breaker.js';
export { isBlobName, type BlobRef, type BlobStore, type ByteRange } from './l3/blob-store.js';
export { createDirBlobStore } from './l3/dir-blob-store.js';
export { signClipUrl, verifyClipUrl, type ClipUrlCheck, type SignClipUrlOptions, type UrlKey } from './l3/signed-url.js';

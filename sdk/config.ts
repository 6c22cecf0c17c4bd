/**
 * CacheConfig: every knob of createCache, its default, its environment
 * variable where it has one, and validation into a typed ConfigError.
 */
import { isContentType, policyProblem, type CachePolicy, type ContentType } from './content-types.js';
import { definedFields } from '../infra/defined-fields.js';
import { ConfigError } from './errors.js';
import type { BlobStore } from './l3/blob-store.js';
import { redisEndpoints } from './redis-endpoints.js';
import { MAX_TIMER_MS } from './timeouts.js';

export interface CacheConfig {
  l1Enabled: boolean;
  /** L1 bound in MiB of encoded value bytes (values are sized as they are encoded for L2). */
  l1MaxSizeMb: number;
  /** Upper bound on any L1 TTL: how stale one instance can be if an invalidation is lost. */
  l1TtlSeconds: number;
  l2Enabled: boolean;
  /** Redis to use; default REDIS_URL, else an embedded redis-server the cache starts itself. */
  l2RedisUrl: string | undefined;
  /**
   * A Redis Cluster to use instead, by a few of its nodes (`redis://host:port`, `rediss://host:port`
   * or `host:port`); default REDIS_CLUSTER_NODES (comma-separated `host:port`).
   */
  l2ClusterNodes: string[] | undefined;
  /**
   * PEM file of the CA that signed the Redis servers' certificates; turns TLS on (for `host:port`
   * cluster nodes too) and is the only CA trusted for Redis. Default REDIS_TLS_CA. Without it,
   * `rediss://` trusts Node's built-in CAs.
   */
  l2TlsCaFile: string | undefined;
  l3Enabled: boolean;
  /** L3 blob store; default a directory store under `${dataDir}/blobs`. */
  blobStore: BlobStore | undefined;
  compressionEnabled: boolean;
  /** Encoded values at least this large are LZ4-compressed in L2 (if it helps). */
  compressionThresholdBytes: number;
  /** Writes made on the read path (filling L2 after a compute) do not hold up the caller. */
  asyncWriteEnabled: boolean;
  /** Prefix of every Redis key and channel, so several apps can share one Redis. */
  keyPrefix: string;
  /** Where the embedded redis and the default L3 blobs and key file live. */
  dataDir: string;
  /**
   * AES-256-GCM keys for sensitive values in L2, by key id (base64 or hex, 32 bytes). The first
   * listed (or `encryptionKeyId`) encrypts; all decrypt, so keys can be rotated. Default:
   * TEDDY_CACHE_KEYS ("id:base64,id2:base64"), else a random key kept in `${dataDir}/cache-key`.
   */
  encryptionKeys: Record<string, string> | undefined;
  encryptionKeyId: string | undefined;
  /** Largest encoded value accepted. */
  maxValueBytes: number;
  /** TTLs are shortened by up to this fraction at random, so entries set together do not expire together. */
  ttlJitter: number;
  /** Redis call timeout: a call not answered within 1–1.5× this fails; a slow Redis counts as a failing one. */
  l2TimeoutMs: number;
  /** Consecutive L2 failures that open the circuit breaker. */
  breakerFailureThreshold: number;
  /** How long the breaker stays open before one probe is let through. */
  breakerResetMs: number;
  /** Lease of the cross-instance compute lock; a crashed holder blocks others at most this long. */
  lockLeaseMs: number;
  /** How long a caller that lost the compute race waits for the winner's value before computing itself. */
  lockWaitMs: number;
  /** Per-content-type policy overrides applied to every call. */
  policies: Partial<Record<ContentType, Partial<CachePolicy>>>;
  /**
   * Auto-recovery: how many L2 changes (writes, deletes, tag invalidations) that failed while Redis
   * was down are kept for replay when it is back (newest per key; the oldest dropped first); 0 = off.
   */
  autoRecoveryMaxItems: number;
  /** Auto-recovery: at most this many MiB of kept records (the oldest dropped first). */
  autoRecoveryMaxMb: number;
  /** Where the cache's few log lines go (a pino logger fits). */
  logger: CacheLogger;
}

export interface CacheLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const stderrLogger: CacheLogger = {
  warn: (obj, msg) => process.stderr.write(`teddycache: warning: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`teddycache: error: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
};

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): CacheConfig {
  return {
    l1Enabled: true,
    l1MaxSizeMb: 256,
    l1TtlSeconds: 300,
    l2Enabled: true,
    l2RedisUrl: env.REDIS_URL || undefined,
    l2ClusterNodes: env.REDIS_CLUSTER_NODES ? parseNodeList(env.REDIS_CLUSTER_NODES) : undefined,
    l2TlsCaFile: env.REDIS_TLS_CA || undefined,
    l3Enabled: true,
    blobStore: undefined,
    compressionEnabled: true,
    compressionThresholdBytes: 1024,
    asyncWriteEnabled: true,
    keyPrefix: 'teddy:',
    dataDir: env.TEDDY_DATA_DIR || '.teddycache',
    encryptionKeys: env.TEDDY_CACHE_KEYS ? parseKeyList(env.TEDDY_CACHE_KEYS) : undefined,
    encryptionKeyId: undefined,
    maxValueBytes: 8 * 1024 * 1024,
    ttlJitter: 0.1,
    l2TimeoutMs: 500,
    breakerFailureThreshold: 5,
    breakerResetMs: 5000,
    lockLeaseMs: 10_000,
    lockWaitMs: 15_000,
    policies: {},
    autoRecoveryMaxItems: 10_000,
    autoRecoveryMaxMb: 64,
    logger: stderrLogger,
  };
}

/** Defaults, then `config`; throws ConfigError naming the first bad field. */
export function resolveConfig(config: Partial<CacheConfig> = {}): CacheConfig {
  if (typeof config !== 'object' || config === null) throw new ConfigError('config', 'must be an object');
  const defaults = defaultConfig();
  for (const key of Object.keys(config)) {
    if (!(key in defaults)) throw new ConfigError(key, 'unknown option');
  }
  const given = definedFields(config);
  // A Redis named in the config replaces the environment's, whichever kind each is.
  if (given.l2RedisUrl !== undefined || given.l2ClusterNodes !== undefined) {
    defaults.l2RedisUrl = undefined;
    defaults.l2ClusterNodes = undefined;
  }
  const c: CacheConfig = { ...defaults, ...given };
  for (const field of ['l1Enabled', 'l2Enabled', 'l3Enabled', 'compressionEnabled', 'asyncWriteEnabled'] as const) {
    if (typeof c[field] !== 'boolean') throw new ConfigError(field, 'must be true or false');
  }
  positive(c, 'l1MaxSizeMb');
  positive(c, 'l1TtlSeconds');
  positive(c, 'maxValueBytes');
  positive(c, 'breakerFailureThreshold');
  // Delays that become timers: past Node's longest one, a timer fires at once (a retry every millisecond).
  for (const field of ['l2TimeoutMs', 'breakerResetMs', 'lockLeaseMs', 'lockWaitMs'] as const) positive(c, field, MAX_TIMER_MS);
  positive(c, 'autoRecoveryMaxMb');
  if (!Number.isFinite(c.compressionThresholdBytes) || c.compressionThresholdBytes < 0) {
    throw new ConfigError('compressionThresholdBytes', 'must be a number ≥ 0');
  }
  if (!(c.ttlJitter >= 0 && c.ttlJitter < 1)) throw new ConfigError('ttlJitter', 'must be in [0, 1)');
  if (!Number.isInteger(c.autoRecoveryMaxItems) || c.autoRecoveryMaxItems < 0) throw new ConfigError('autoRecoveryMaxItems', 'must be an integer ≥ 0');
  if (typeof c.policies !== 'object' || c.policies === null) throw new ConfigError('policies', 'must be an object');
  for (const [type, policy] of Object.entries(c.policies)) {
    if (!isContentType(type)) throw new ConfigError(`policies.${type}`, 'is not a content type');
    if (policy !== undefined && (typeof policy !== 'object' || policy === null)) throw new ConfigError(`policies.${type}`, 'must be an object');
    const problem = policy ? policyProblem(policy) : undefined;
    if (problem) throw new ConfigError(`policies.${type}.${problem[0]}`, problem[1]);
  }
  // Braces would break the Redis Cluster hash tags the key layout adds (sdk/key-layout.ts).
  if (typeof c.keyPrefix !== 'string' || /[{}]/.test(c.keyPrefix)) throw new ConfigError('keyPrefix', 'must be a string without { or }');
  if (typeof c.dataDir !== 'string' || c.dataDir === '') throw new ConfigError('dataDir', 'must be a non-empty path');
  if (c.l2TlsCaFile !== undefined && (typeof c.l2TlsCaFile !== 'string' || c.l2TlsCaFile === '')) {
    throw new ConfigError('l2TlsCaFile', 'must be a path to a PEM file');
  }
  const endpoints = redisEndpoints(c.l2RedisUrl, c.l2ClusterNodes, c.l2TlsCaFile); // throws for a bad or contradictory Redis
  if (c.l2Enabled && c.l2TlsCaFile !== undefined && endpoints === undefined) {
    // The embedded default is a loopback child without TLS; a CA for it means a Redis setting went missing.
    throw new ConfigError('l2TlsCaFile', 'is set but no Redis is configured (l2RedisUrl or l2ClusterNodes)');
  }
  if (c.encryptionKeyId !== undefined && !c.encryptionKeys?.[c.encryptionKeyId]) {
    throw new ConfigError('encryptionKeyId', 'names no key in encryptionKeys');
  }
  return c;
}

function positive(c: CacheConfig, field: keyof CacheConfig, max = Infinity): void {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new ConfigError(field, max === Infinity ? 'must be a number > 0' : `must be a number > 0 and ≤ ${max}`);
}

/** "host:port, host2:port" → ["host:port", "host2:port"] */
function parseNodeList(list: string): string[] {
  return list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
}

/** "id:key,id2:key2" → { id: key, id2: key2 } */
function parseKeyList(list: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const item of list.split(',')) {
    const at = item.indexOf(':');
    if (at <= 0) throw new ConfigError('TEDDY_CACHE_KEYS', 'expected "id:key[,id:key…]"');
    keys[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return keys;
}

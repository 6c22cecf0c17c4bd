/**
 * MultiLayerCache: L1 memory, L2 Redis, L3 blobs, in front of a compute
 * function. Reads go down the layers and fill the ones above on the way back;
 * writes go to every layer the content type's policy names. Infrastructure
 * faults (Redis down or slow, a blob missing) are absorbed and counted, never
 * thrown; caller mistakes (bad key, unknown type, a value CBOR cannot hold)
 * are thrown as typed errors, and the cache goes on serving.
 */
import { performance } from 'node:perf_hooks';
import type { ChainableCommander } from 'ioredis';
import { adviseCache, type Advice } from './advice.js';
import { coarseNow } from './coarse-clock.js';
import { ContentType, policyFor, type CachePolicy } from './content-types.js';
import type { CacheConfig } from './config.js';
import { acquireLock, lockHeld, releaseLock } from './compute-lock.js';
import type { Keyring } from './crypto.js';
import { CacheError, InvalidKeyError, UnknownContentTypeError, ValueTooLargeError } from './errors.js';
import type { InvalidationBus } from './invalidation-bus.js';
import { sha256Hex } from './keys.js';
import type { L1, L1Entry } from './l1.js';
import { FAILED, type L2 } from './l2.js';
import type { BlobRef, BlobStore } from './l3/blob-store.js';
import type { L3Layer } from './l3/l3-layer.js';
import { CacheMetrics, type PerformanceMetrics } from './metrics.js';
import type { RedisServer } from '../infra/redis-server.js';
import { redactUrl } from './redact-url.js';
import { decodeBody, encodeBody, packRecord, unpackRecord } from './value-codec.js';
import { setTimeout as sleep } from 'node:timers/promises';

export type CacheSource = 'l1' | 'l2' | 'l3' | 'compute' | 'stale';

export interface CacheCallOptions {
  /** Overrides the policy's TTL for this value. */
  readonly ttlSeconds?: number;
  /** Tags for invalidateTag. */
  readonly tags?: readonly string[];
  /** Overrides any policy field for this call. */
  readonly policy?: Partial<CachePolicy>;
}

export interface FetchResult<T> {
  readonly value: T;
  readonly source: CacheSource;
  /** The L3 blob holding the value, for byte values of L3 content types. */
  readonly blob?: BlobRef;
}

export interface WarmEntry {
  readonly key: string;
  readonly contentType: ContentType;
  /** The value to store; or give `compute`, called only if the key is not cached. */
  readonly value?: unknown;
  readonly compute?: () => Promise<unknown>;
  readonly ttlSeconds?: number;
  readonly tags?: readonly string[];
}

export interface WarmResult {
  readonly warmed: number;
  readonly skipped: number;
  readonly failed: number;
}

export interface CacheHealth {
  readonly status: 'ok' | 'degraded';
  readonly l1: { readonly enabled: boolean; readonly entries: number; readonly bytes: number; readonly maxBytes: number };
  readonly l2: {
    readonly enabled: boolean;
    readonly embedded: boolean;
    /** The Redis in use, password redacted. */
    readonly url: string | undefined;
    readonly connected: boolean;
    readonly breaker: string;
    readonly pingMs: number | undefined;
  };
  readonly l3: { readonly enabled: boolean };
}

export interface MultiLayerCache {
  get<T = unknown>(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<T | undefined>;
  /**
   * L1 only, synchronous: the value if this process holds it fresh, else undefined (no lower
   * layer is asked). For hot paths that can fall back to `get` themselves.
   */
  peek<T = unknown>(key: string, contentType: ContentType): T | undefined;
  set(key: string, value: unknown, contentType: ContentType, options?: CacheCallOptions): Promise<void>;
  delete(key: string, contentType: ContentType): Promise<void>;
  getWithFallback<T>(key: string, contentType: ContentType, computeFn: () => Promise<T> | T, options?: CacheCallOptions): Promise<T>;
  /** getWithFallback that also says which layer answered. */
  fetch<T>(key: string, contentType: ContentType, computeFn: () => Promise<T> | T, options?: CacheCallOptions): Promise<FetchResult<T>>;
  /** Drops every value set with this tag, in every instance; resolves to how many L2 keys it named. */
  invalidateTag(tag: string): Promise<number>;
  warmCache(entries: readonly WarmEntry[], onProgress?: (done: number, total: number) => void): Promise<WarmResult>;
  getPerformanceMetrics(): PerformanceMetrics;
  health(): Promise<CacheHealth>;
  /** What the metrics say to change (sdk/advice.ts). */
  advise(): Advice[];
  /** The L3 blob store in use (the gateway's clip origin serves from it), if L3 is on. */
  readonly blobStore: BlobStore | undefined;
  close(): Promise<void>;
}

export interface CacheParts {
  readonly config: CacheConfig;
  readonly l1: L1 | undefined;
  readonly l2: L2 | undefined;
  readonly bus: InvalidationBus | undefined;
  readonly l3: L3Layer | undefined;
  readonly keyring: Keyring | undefined;
  readonly embeddedRedis: RedisServer | undefined;
  readonly metrics: CacheMetrics;
}

const MAX_KEY_LENGTH = 4096;
const WARM_CONCURRENCY = 8;

export class LayeredCache implements MultiLayerCache {
  private readonly cfg: CacheConfig;
  private readonly l1: L1 | undefined;
  private readonly l2: L2 | undefined;
  private readonly bus: InvalidationBus | undefined;
  private readonly l3: L3Layer | undefined;
  private readonly keyring: Keyring | undefined;
  private readonly embeddedRedis: RedisServer | undefined;
  private readonly metrics: CacheMetrics;
  private readonly flights = new Map<string, Promise<FetchResult<unknown>>>();
  /** The policy table with the config's overrides merged once, not per call. */
  private readonly policies: ReadonlyMap<string, CachePolicy>;
  private closed = false;

  constructor(parts: CacheParts) {
    this.cfg = parts.config;
    this.l1 = parts.l1;
    this.l2 = parts.l2;
    this.bus = parts.bus;
    this.l3 = parts.l3;
    this.keyring = parts.keyring;
    this.embeddedRedis = parts.embeddedRedis;
    this.metrics = parts.metrics;
    this.policies = new Map(Object.values(ContentType).map((t) => [t, policyFor(t, this.cfg.policies[t])]));
  }

  get blobStore(): BlobStore | undefined {
    return this.l3?.store;
  }

  get<T = unknown>(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<T | undefined> {
    const policy = this.check(key, contentType, options);
    if (policy instanceof CacheError) return Promise.reject(policy);
    const hit = this.l1Hit(key, contentType, policy);
    if (hit) return Promise.resolve(hit.value as T);
    return this.getBelowL1(key, contentType, policy).then((found) => {
      if (found && 'result' in found) return found.result.value as T;
      this.metrics.misses += 1;
      return undefined;
    });
  }

  peek<T = unknown>(key: string, contentType: ContentType): T | undefined {
    const policy = this.check(key, contentType, undefined);
    if (policy instanceof CacheError) throw policy;
    return this.l1Hit(key, contentType, policy)?.value as T | undefined;
  }

  async getWithFallback<T>(key: string, contentType: ContentType, computeFn: () => Promise<T> | T, options?: CacheCallOptions): Promise<T> {
    return (await this.fetch(key, contentType, computeFn, options)).value;
  }

  fetch<T>(key: string, contentType: ContentType, computeFn: () => Promise<T> | T, options?: CacheCallOptions): Promise<FetchResult<T>> {
    const policy = this.check(key, contentType, options);
    if (policy instanceof CacheError) return Promise.reject(policy);
    const hit = this.l1Hit(key, contentType, policy);
    if (hit) return Promise.resolve({ value: hit.value as T, source: 'l1', blob: hit.blob });
    const flightKey = `${contentType}\0${key}`;
    const inFlight = this.flights.get(flightKey);
    if (inFlight) {
      // Same key already being resolved in this process: wait for it instead of computing again.
      this.metrics.coalesced += 1;
      return inFlight as Promise<FetchResult<T>>;
    }
    const flight = this.resolveMiss(key, contentType, computeFn, policy, options).finally(() => this.flights.delete(flightKey));
    this.flights.set(flightKey, flight);
    return flight;
  }

  async set(key: string, value: unknown, contentType: ContentType, options?: CacheCallOptions): Promise<void> {
    const policy = this.check(key, contentType, options);
    if (policy instanceof CacheError) throw policy;
    this.metrics.sets += 1;
    await this.store(key, contentType, value, policy, options, true);
  }

  async delete(key: string, contentType: ContentType): Promise<void> {
    const policy = this.check(key, contentType, undefined);
    if (policy instanceof CacheError) throw policy;
    this.metrics.deletes += 1;
    const l2Key = this.l2KeyOf(contentType, key);
    this.l1?.delete(contentType, key);
    if (this.l2 && policy.l2) await this.l2.call((c) => this.announce(c.multi().del(l2Key), [l2Key]).exec());
    if (this.l3 && policy.l3) await this.l3.delete(l2Key);
  }

  async invalidateTag(tag: string): Promise<number> {
    this.assertOpen();
    if (typeof tag !== 'string' || tag === '') throw new InvalidKeyError('a tag must be a non-empty string');
    this.l1?.dropTag(tag);
    if (!this.l2) return 0;
    const tagKey = this.tagKeyOf(tag);
    const members = await this.l2.call((c) => c.smembers(tagKey));
    if (members === FAILED) return 0;
    if (members.length > 0) {
      for (const l2Key of members) this.l1?.dropL2Key(l2Key);
      await this.l2.call((c) => this.announce(c.multi().del(...members, tagKey), members).exec());
      if (this.l3) await Promise.all(members.map((k) => this.l3!.delete(k)));
    }
    return members.length;
  }

  async warmCache(entries: readonly WarmEntry[], onProgress?: (done: number, total: number) => void): Promise<WarmResult> {
    this.assertOpen();
    let warmed = 0;
    let skipped = 0;
    let failed = 0;
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < entries.length) {
        const entry = entries[next++]!;
        const options = { ttlSeconds: entry.ttlSeconds, tags: entry.tags };
        try {
          if (entry.value !== undefined) {
            await this.set(entry.key, entry.value, entry.contentType, options);
            warmed += 1;
          } else if (entry.compute) {
            const { source } = await this.fetch(entry.key, entry.contentType, entry.compute, options);
            if (source === 'compute') warmed += 1;
            else skipped += 1;
          } else {
            throw new CacheError('a warm entry needs a value or a compute function');
          }
        } catch (err) {
          failed += 1;
          this.cfg.logger.warn({ err: (err as Error).message, contentType: entry.contentType }, 'warm entry failed');
        }
        onProgress?.(++done, entries.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WARM_CONCURRENCY, entries.length) }, worker));
    return { warmed, skipped, failed };
  }

  getPerformanceMetrics(): PerformanceMetrics {
    return this.metrics.snapshot({
      l1Bytes: this.l1?.bytes ?? 0,
      l1Entries: this.l1?.entries ?? 0,
      breakerState: this.l2?.breaker.state ?? 'open',
    });
  }

  advise(): Advice[] {
    return adviseCache(this.getPerformanceMetrics(), this.cfg);
  }

  async health(): Promise<CacheHealth> {
    let pingMs: number | undefined;
    if (this.l2) {
      const t0 = performance.now();
      const pong = await this.l2.call((c) => c.ping());
      if (pong !== FAILED) pingMs = performance.now() - t0;
    }
    const l2Healthy = !this.cfg.l2Enabled || pingMs !== undefined;
    return {
      status: l2Healthy ? 'ok' : 'degraded',
      l1: {
        enabled: this.l1 !== undefined,
        entries: this.l1?.entries ?? 0,
        bytes: this.l1?.bytes ?? 0,
        maxBytes: this.l1?.maxBytes ?? 0,
      },
      l2: {
        enabled: this.l2 !== undefined,
        embedded: this.embeddedRedis !== undefined,
        url: this.l2 ? redactUrl(this.l2.url) : undefined,
        connected: this.l2?.client.status === 'ready',
        breaker: this.l2?.breaker.state ?? 'n/a',
        pingMs,
      },
      l3: { enabled: this.l3 !== undefined },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.flights.values()]);
    await this.bus?.close();
    await this.l2?.close();
    await this.embeddedRedis?.stop();
    this.l1?.clear();
  }

  /** Called by the invalidation bus with L2 keys another instance changed. */
  dropFromL1(l2Keys: readonly string[]): void {
    this.metrics.invalidationsReceived += 1;
    for (const k of l2Keys) this.l1?.dropL2Key(k);
  }

  // --- internals ---

  /** Adds the invalidation message for these keys to a transaction (every L2 write announces itself). */
  private announce(tx: ChainableCommander, l2Keys: readonly string[]): ChainableCommander {
    return this.bus ? tx.publish(this.bus.channel, this.bus.encode(l2Keys)) : tx;
  }

  /** The policy for a call, or the typed error its arguments earn (returned: the callers decide throw or reject). */
  private check(key: string, contentType: ContentType, options: CacheCallOptions | undefined): CachePolicy | CacheError {
    if (this.closed) return new CacheError('the cache is closed');
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return new InvalidKeyError(`a key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
    }
    const base = this.policies.get(contentType);
    if (base === undefined) return new UnknownContentTypeError(contentType);
    return options?.policy ? { ...base, ...options.policy } : base;
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheError('the cache is closed');
  }

  /** The synchronous L1 fast path; counts the request only when it hits. */
  private l1Hit(key: string, contentType: ContentType, policy: CachePolicy): L1Entry | undefined {
    if (!this.l1 || !policy.l1) return undefined;
    const sample = this.metrics.sampleL1();
    const t0 = sample ? performance.now() : 0;
    const entry = this.l1.get(contentType, key);
    if (entry === undefined || entry.expiresAt <= coarseNow()) return undefined;
    const m = this.metrics;
    m.requests += 1;
    m.hits += 1;
    m.layerHits.l1 += 1;
    if (sample) m.record('l1', (performance.now() - t0) * 1000);
    return entry;
  }

  /**
   * L2 then L3, promoting what it finds. Counts the request (and the L1 miss) except when
   * nothing is found, which the caller counts as a miss or resolves by computing.
   */
  private async getBelowL1(
    key: string,
    contentType: ContentType,
    policy: CachePolicy,
  ): Promise<{ result: FetchResult<unknown> } | { stale: L1Entry | { value: unknown } } | undefined> {
    const m = this.metrics;
    m.requests += 1;
    if (this.l1 && policy.l1) m.layerMisses.l1 += 1;
    const now = Date.now();
    const l1Entry = this.l1?.get(contentType, key);
    let stale: { value: unknown } | undefined = l1Entry && l1Entry.staleUntil > now ? l1Entry : undefined;
    const l2Key = this.l2KeyOf(contentType, key);

    if (this.l2 && policy.l2) {
      const t0 = performance.now();
      const record = await this.l2.call((c) => c.getBuffer(l2Key));
      if (record === FAILED) {
        m.layerErrors.l2 += 1;
      } else if (record !== null) {
        const decoded = this.decodeRecord(record, l2Key);
        if (decoded && decoded.expiresAt > now) {
          m.record('l2', (performance.now() - t0) * 1000);
          m.hits += 1;
          m.layerHits.l2 += 1;
          const blob = policy.l3 && decoded.value instanceof Uint8Array ? await this.ensureBlob(l2Key, decoded.value, decoded.expiresAt) : undefined;
          this.fillL1(contentType, key, l2Key, decoded.value, record.length, decoded.expiresAt, policy, undefined, blob);
          return { result: { value: decoded.value, source: 'l2', blob } };
        }
        if (decoded) stale ??= decoded;
        m.layerMisses.l2 += 1;
      } else {
        m.layerMisses.l2 += 1;
      }
    }

    if (this.l3 && policy.l3) {
      const t0 = performance.now();
      try {
        const found = await this.l3.get(l2Key, now);
        if (found) {
          m.record('l3', (performance.now() - t0) * 1000);
          m.hits += 1;
          m.layerHits.l3 += 1;
          this.fillL1(contentType, key, l2Key, found.bytes, found.bytes.byteLength, found.expiresAt, policy, undefined, found.ref);
          return { result: { value: found.bytes, source: 'l3', blob: found.ref } };
        }
        m.layerMisses.l3 += 1;
      } catch (err) {
        m.layerErrors.l3 += 1;
        this.cfg.logger.warn({ err: (err as Error).message }, 'L3 read failed');
      }
    }
    return stale ? { stale } : undefined;
  }

  private async resolveMiss<T>(
    key: string,
    contentType: ContentType,
    computeFn: () => Promise<T> | T,
    policy: CachePolicy,
    options: CacheCallOptions | undefined,
  ): Promise<FetchResult<T>> {
    const below = await this.getBelowL1(key, contentType, policy);
    if (below && 'result' in below) return below.result as FetchResult<T>;
    const stale = below?.stale;
    this.metrics.misses += 1;

    const l2 = this.l2 && policy.l2 ? this.l2 : undefined;
    if (!l2) return this.computeAndStore(key, contentType, computeFn, policy, options, stale, false);

    // Another instance may be computing this key: take the lock, or wait for its value.
    const lockKey = `${this.cfg.keyPrefix}lock:${this.l2KeyOf(contentType, key)}`;
    const deadline = Date.now() + this.cfg.lockWaitMs;
    let pause = 5;
    let waited = false;
    for (;;) {
      const lock = await acquireLock(l2, lockKey, this.cfg.lockLeaseMs);
      if (typeof lock === 'object') {
        try {
          // The previous holder may have stored the value between our read and our lock.
          const found = waited ? await this.peekL2(key, contentType, policy) : undefined;
          if (found) return found as FetchResult<T>;
          // Waiters poll L2, so the value must be there before the lock is released.
          return await this.computeAndStore(key, contentType, computeFn, policy, options, stale, true);
        } finally {
          await releaseLock(l2, lockKey, lock.token);
        }
      }
      if (lock === 'unavailable' || Date.now() > deadline) break;
      if (!waited) {
        waited = true;
        this.metrics.coalesced += 1;
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 100);
      const found = await this.peekL2(key, contentType, policy);
      if (found) return found as FetchResult<T>;
      if (!(await lockHeld(l2, lockKey))) continue; // holder finished without a value or died: race again
    }
    return this.computeAndStore(key, contentType, computeFn, policy, options, stale, !this.cfg.asyncWriteEnabled);
  }

  /** A quiet L2 read for lock waiters: a hit fills L1; nothing counted as a request. */
  private async peekL2(key: string, contentType: ContentType, policy: CachePolicy): Promise<FetchResult<unknown> | undefined> {
    const l2Key = this.l2KeyOf(contentType, key);
    const record = await this.l2!.call((c) => c.getBuffer(l2Key));
    if (record === FAILED || record === null) return undefined;
    const decoded = this.decodeRecord(record, l2Key);
    if (!decoded || decoded.expiresAt <= Date.now()) return undefined;
    const blob = policy.l3 && decoded.value instanceof Uint8Array ? await this.ensureBlob(l2Key, decoded.value, decoded.expiresAt) : undefined;
    this.fillL1(contentType, key, l2Key, decoded.value, record.length, decoded.expiresAt, policy, undefined, blob);
    return { value: decoded.value, source: 'l2', blob };
  }

  private async computeAndStore<T>(
    key: string,
    contentType: ContentType,
    computeFn: () => Promise<T> | T,
    policy: CachePolicy,
    options: CacheCallOptions | undefined,
    stale: { value: unknown } | undefined,
    awaitL2: boolean,
  ): Promise<FetchResult<T>> {
    const m = this.metrics;
    m.computes += 1;
    const t0 = performance.now();
    let value: T;
    try {
      value = await computeFn();
    } catch (err) {
      m.computeErrors += 1;
      m.layerErrors.compute += 1;
      if (stale) {
        m.staleServed += 1;
        return { value: stale.value as T, source: 'stale' };
      }
      throw err;
    }
    m.record('compute', (performance.now() - t0) * 1000);
    m.layerHits.compute += 1;
    const blob = await this.store(key, contentType, value, policy, options, awaitL2);
    return { value, source: 'compute', blob };
  }

  /** Writes every layer the policy names; L2 is awaited when `awaitL2` (else written behind). */
  private async store(
    key: string,
    contentType: ContentType,
    value: unknown,
    policy: CachePolicy,
    options: CacheCallOptions | undefined,
    awaitL2: boolean,
  ): Promise<BlobRef | undefined> {
    const ttlSeconds = options?.ttlSeconds ?? policy.ttlSeconds;
    if (!(ttlSeconds > 0)) throw new CacheError('ttlSeconds must be > 0');
    const tags = options?.tags;
    if (tags && !tags.every((t) => typeof t === 'string' && t !== '')) throw new InvalidKeyError('tags must be non-empty strings');
    const now = Date.now();
    const ttlMs = ttlSeconds * 1000 * (1 - this.cfg.ttlJitter * Math.random());
    const expiresAt = Math.round(now + ttlMs);
    const body = encodeBody(value, expiresAt);
    if (body.length > this.cfg.maxValueBytes) throw new ValueTooLargeError(body.length, this.cfg.maxValueBytes);
    const l2Key = this.l2KeyOf(contentType, key);

    let blob: BlobRef | undefined;
    if (this.l3 && policy.l3 && value instanceof Uint8Array) {
      try {
        blob = await this.l3.put(l2Key, value, expiresAt);
      } catch (err) {
        this.metrics.layerErrors.l3 += 1;
        this.cfg.logger.warn({ err: (err as Error).message }, 'L3 write failed');
      }
    }
    this.fillL1(contentType, key, l2Key, value, body.length, expiresAt, policy, tags, blob);

    if (this.l2 && policy.l2) {
      const record = packRecord(body, {
        compressAbove: this.cfg.compressionEnabled ? this.cfg.compressionThresholdBytes : undefined,
        keyring: policy.encrypt ? this.keyring : undefined,
        aad: l2Key,
      });
      const keepMs = Math.ceil(ttlMs + policy.staleGraceSeconds * 1000);
      const write = this.l2
        .call((c) => {
          const tx = c.multi().set(l2Key, record, 'PX', keepMs);
          for (const tag of tags ?? []) {
            const tagKey = this.tagKeyOf(tag);
            tx.sadd(tagKey, l2Key).pexpire(tagKey, keepMs, 'GT').pexpire(tagKey, keepMs, 'NX');
          }
          return this.announce(tx, [l2Key]).exec();
        })
        .then((r) => {
          if (r === FAILED) this.metrics.layerErrors.l2 += 1;
        });
      if (awaitL2) await write;
    }
    return blob;
  }

  private fillL1(
    contentType: ContentType,
    key: string,
    l2Key: string,
    value: unknown,
    encodedBytes: number,
    expiresAt: number,
    policy: CachePolicy,
    tags: readonly string[] | undefined,
    blob: BlobRef | undefined,
  ): void {
    if (!this.l1 || !policy.l1) return;
    const now = Date.now();
    this.l1.set(contentType, key, {
      value,
      // Charged: the encoded value, the keys (the composite LRU key, the caller's key in the per-type
      // map, the L2 key in the reverse index; two bytes a character at worst) and fixed overhead.
      size: encodedBytes + 2 * (2 * key.length + contentType.length + l2Key.length) + 192,
      expiresAt: Math.min(expiresAt, now + this.cfg.l1TtlSeconds * 1000),
      staleUntil: expiresAt + policy.staleGraceSeconds * 1000,
      l2Key,
      tags,
      blob,
    });
  }

  private decodeRecord(record: Buffer, l2Key: string): { value: unknown; expiresAt: number } | undefined {
    try {
      return decodeBody(unpackRecord(record, this.keyring, l2Key));
    } catch (err) {
      // A record we cannot read (rotated-out key, tampering, another app's key) is a miss, not an error.
      this.metrics.layerErrors.l2 += 1;
      this.cfg.logger.warn({ err: (err as Error).message }, 'unreadable L2 record ignored');
      return undefined;
    }
  }

  /** A value found in L2 must also be in this instance's L3 before a URL can be signed for it. */
  private async ensureBlob(l2Key: string, bytes: Uint8Array, expiresAt: number): Promise<BlobRef | undefined> {
    if (!this.l3) return undefined;
    try {
      return await this.l3.put(l2Key, bytes, expiresAt);
    } catch (err) {
      this.metrics.layerErrors.l3 += 1;
      this.cfg.logger.warn({ err: (err as Error).message }, 'L3 write failed');
      return undefined;
    }
  }

  private l2KeyOf(contentType: ContentType, key: string): string {
    return `${this.cfg.keyPrefix}${contentType}:${sha256Hex(key)}`;
  }

  private tagKeyOf(tag: string): string {
    return `${this.cfg.keyPrefix}tag:${sha256Hex(tag)}`;
  }
}


/**
 * MultiLayerCache: L1 memory, L2 Redis, L3 blobs, in front of a compute
 * function. This file is the public class: argument checks, the L1 fast
 * path, in-process single flight, and delegation to the read path
 * (./read-path.ts), the compute runner (./compute.ts), the call's timeouts
 * (./timeouts.ts) and the write path (./write-path.ts). Infrastructure
 * faults (Redis down or slow, a blob missing) are absorbed and counted,
 * never thrown; caller mistakes (bad key, unknown type, a value CBOR cannot
 * hold) are thrown as typed errors, and the cache goes on serving.
 *
 * The fast path (get, peek, fetch without options) is one L1 lookup, an
 * expiry check against a coarse clock, one comparison with the entry's
 * eager refresh time (Infinity when the policy has none) and one counter:
 * no argument check runs before it, because a key or type that fails the
 * checks can never be in L1; a lookup that misses takes the slow path, which
 * checks. Nothing else reaches it: spans are made below it only, and `hit`
 * events come from an observed copy of it that the cache switches to while a
 * `hit` listener exists.
 */
import { performance } from 'node:perf_hooks';
import { adviseCache, type Advice } from './advice.js';
import { checkCallOptions, skipsLayers, skipsOf, type CacheCallOptions, type CallContext } from './call-context.js';
import type { CacheParts } from './cache-parts.js';
import { coarseNow } from './coarse-clock.js';
import { refreshInBackground, releaseComputeLock, resolveMiss, type ComputeFn } from './compute.js';
import { ContentType, policyFor, type CachePolicy } from './content-types.js';
import { CacheError, InvalidKeyError, InvalidOptionError, UnknownContentTypeError } from './errors.js';
import { isCacheEventName, type CacheEventListener, type CacheEventName } from './events.js';
import type { FetchResult } from './fetch-result.js';
import { Flight } from './flight.js';
import type { L1Entry } from './l1.js';
import { FAILED } from './l2.js';
import type { BlobStore } from './l3/blob-store.js';
import { L1_SAMPLE, type PerformanceMetrics } from './metrics.js';
import { Namespace, NamespaceView, type CacheNamespace } from './namespace.js';
import { readL1, readL2, readL3 } from './read-path.js';
import { describeEndpoints } from './redact-url.js';
import { awaitFlight } from './timeouts.js';
import { NO_TRACE, startTrace } from './tracing.js';
import { eraseSubject, noteUse, type SubjectErasure } from './subject-index.js';
import { invalidateTag, remove, store } from './write-path.js';

export type { CacheCallOptions } from './call-context.js';
export type { CacheSource, FetchResult } from './fetch-result.js';

export interface WarmEntry {
  readonly key: string;
  readonly contentType: ContentType;
  /** The value to store; or give `compute`, called only if the key is not cached. */
  readonly value?: unknown;
  readonly compute?: ComputeFn<unknown>;
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
    /** The Redis in use, password redacted: its URL, or `cluster redis://host:port,…`. */
    readonly url: string | undefined;
    readonly tls: boolean;
    readonly connected: boolean;
    readonly breaker: string;
    readonly pingMs: number | undefined;
    /** Changes kept while Redis refused them, waiting to be replayed (auto-recovery). */
    readonly pendingChanges: number;
  };
  readonly l3: { readonly enabled: boolean };
}

export interface MultiLayerCache {
  get<T = unknown>(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<T | undefined>;
  /**
   * L1 only, synchronous: the value if this process holds it fresh, else undefined (no lower
   * layer is asked). For hot paths that can fall back to `get` themselves.
   */
  peek<T = unknown>(key: string, contentType: ContentType, options?: Pick<CacheCallOptions, 'subject'>): T | undefined;
  set(key: string, value: unknown, contentType: ContentType, options?: CacheCallOptions): Promise<void>;
  /** Removes it from every layer and every instance's L1 (`skipL1`, `skipL2Write`, `skipBusNotify` apply). */
  delete(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<void>;
  getWithFallback<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions): Promise<T>;
  /** getWithFallback that also says which layer answered. */
  fetch<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions): Promise<FetchResult<T>>;
  /** Drops every value set with this tag, in every instance; resolves to how many L2 keys it named. */
  invalidateTag(tag: string): Promise<number>;
  /**
   * Removes every value written or read with `{ subject }` that no other subject used, from every
   * layer and every instance's L1 (sdk/subject-index.ts); says what it removed per layer.
   */
  eraseSubject(subjectId: string): Promise<SubjectErasure>;
  /** A view whose keys and tags are scoped to `name`; its `clear()` removes its entries everywhere. */
  namespace(name: string): CacheNamespace;
  warmCache(entries: readonly WarmEntry[], onProgress?: (done: number, total: number) => void): Promise<WarmResult>;
  /** Listens to cache events (sdk/events.ts): hit, miss, stale, timeout, refresh, l2-error, breaker. */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): this;
  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): this;
  getPerformanceMetrics(): PerformanceMetrics;
  health(): Promise<CacheHealth>;
  /** What the metrics say to change (sdk/advice.ts). */
  advise(): Advice[];
  /** The L3 blob store in use (the gateway's clip origin serves from it), if L3 is on. */
  readonly blobStore: BlobStore | undefined;
  close(): Promise<void>;
}

const MAX_KEY_LENGTH = 4096;
const WARM_CONCURRENCY = 8;
const L1_SAMPLE_MASK = L1_SAMPLE - 1;
/** Subjects `peek` remembers having recorded per L1 entry. */
const NOTED_PER_ENTRY = 64;

type FastHit = (key: string, contentType: ContentType, computeFn?: ComputeFn<unknown>, ns?: Namespace) => FetchResult<unknown> | undefined;

export class LayeredCache implements MultiLayerCache {
  private readonly parts: CacheParts;
  private readonly flights = new Map<string, Flight<unknown>>();
  /** The policy table with the config's overrides merged once, not per call. */
  private readonly policies: ReadonlyMap<string, CachePolicy>;
  /** The L1 fast path in use: plain, or observed while a `hit` listener exists. */
  private fastHit: FastHit = this.plainHit;
  private l1Tick = 0;
  /**
   * The subjects recorded per L1 entry (by its prebuilt hit result), for `peek` with a subject: a
   * repeat costs a WeakMap and a Set lookup, where noteUse builds a pair string per call (1–2 µs of
   * a gateway request, profiled). Bounded per entry; gone with the entry.
   */
  private notedSubjects = new WeakMap<object, Set<string>>();
  private closed = false;

  constructor(parts: CacheParts) {
    this.parts = parts;
    this.policies = new Map(Object.values(ContentType).map((t) => [t, policyFor(t, parts.config.policies[t])]));
  }

  get blobStore(): BlobStore | undefined {
    return this.parts.l3?.store;
  }

  get<T = unknown>(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<T | undefined> {
    if (options === undefined) {
      const hit = this.fastHit(key, contentType);
      if (hit !== undefined) return Promise.resolve(hit.value as T);
    }
    return this.getSlow(key, contentType, options) as Promise<T | undefined>;
  }

  peek<T = unknown>(key: string, contentType: ContentType, options?: Pick<CacheCallOptions, 'subject'>): T | undefined {
    const hit = this.fastHit(key, contentType);
    if (hit !== undefined) {
      const subject = options?.subject;
      if (subject) {
        let noted = this.notedSubjects.get(hit);
        if (!noted) this.notedSubjects.set(hit, (noted = new Set()));
        if (!noted.has(subject)) {
          // A value shared by a whole fleet would hold every bear's id: start over past the bound.
          if (noted.size >= NOTED_PER_ENTRY) noted.clear();
          noted.add(subject);
          noteUse(this.parts, contentType, key, subject);
        }
      }
      return hit.value as T;
    }
    this.context(key, contentType, undefined, undefined, undefined); // throws the caller's mistake, if it is one
    return undefined;
  }

  async getWithFallback<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions, ns?: Namespace): Promise<T> {
    return (await this.fetch(key, contentType, computeFn, options, ns)).value;
  }

  /** `ns`: the namespace view the call came through (its key is already scoped). */
  fetch<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions, ns?: Namespace): Promise<FetchResult<T>> {
    if (options === undefined) {
      const hit = this.fastHit(key, contentType, computeFn as ComputeFn<unknown>, ns);
      if (hit !== undefined) return Promise.resolve(hit as FetchResult<T>);
    }
    let ctx: CallContext;
    try {
      if (typeof computeFn !== 'function') throw new InvalidOptionError('computeFn', 'must be a function');
      ctx = this.context(key, contentType, options, ns, 'fetch');
    } catch (err) {
      return Promise.reject(err);
    }
    // Calls that skip a layer do not share a flight with calls that do not.
    const flightKey = skipsLayers(options) ? `${ctx.keys.l2Key}\0${skipsOf(options!)}` : ctx.keys.l2Key;
    let flight = this.flights.get(flightKey) as Flight<T> | undefined;
    if (flight) {
      // Same key already being resolved in this process: wait for it instead of computing again.
      this.parts.metrics.coalesced += 1;
    } else {
      const started = new Flight<T>((looked) => resolveMiss(this.parts, ctx, computeFn, looked));
      this.flights.set(flightKey, started as Flight<unknown>);
      const landed = () => {
        if (this.flights.get(flightKey) === started) this.flights.delete(flightKey);
      };
      started.result.then(landed, landed);
      flight = started;
    }
    const answer = awaitFlight(this.parts, ctx, flight);
    const subject = options?.subject;
    if (subject) answer.then((r) => r.source !== 'compute' && noteUse(this.parts, contentType, ctx.key, subject, ctx.keys.l2Key), () => undefined);
    if (ctx.trace !== NO_TRACE) answer.then((r) => ctx.trace.end(r.source), (err: unknown) => ctx.trace.end(undefined, err));
    return answer;
  }

  async set(key: string, value: unknown, contentType: ContentType, options?: CacheCallOptions, ns?: Namespace): Promise<void> {
    const ctx = this.context(key, contentType, options, ns, 'set');
    this.parts.metrics.sets += 1;
    try {
      await store(this.parts, ctx, value, { awaitL2: true, lockToken: '' });
    } catch (err) {
      ctx.trace.end(undefined, err);
      throw err;
    }
    ctx.trace.end(undefined);
  }

  async delete(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<void> {
    const ctx = this.context(key, contentType, options, undefined, 'delete');
    this.parts.metrics.deletes += 1;
    try {
      await remove(this.parts, ctx);
    } finally {
      ctx.trace.end(undefined);
    }
  }

  async eraseSubject(subjectId: string): Promise<SubjectErasure> {
    this.assertOpen();
    // Like noteUse's memory, forgotten: the subject's next use of a value it shared is recorded again.
    this.notedSubjects = new WeakMap();
    return eraseSubject(this.parts, subjectId);
  }

  async invalidateTag(tag: string): Promise<number> {
    this.assertOpen();
    if (typeof tag !== 'string' || tag === '') throw new InvalidKeyError('a tag must be a non-empty string');
    return invalidateTag(this.parts, tag);
  }

  namespace(name: string): CacheNamespace {
    this.assertOpen();
    return new NamespaceView(this, Namespace.root(name));
  }

  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): this {
    if (!isCacheEventName(event)) throw new InvalidOptionError('event', `unknown cache event ${JSON.stringify(String(event)).slice(0, 40)}`);
    if (typeof listener !== 'function') throw new InvalidOptionError('listener', 'must be a function');
    this.parts.events.on(event, listener);
    if (event === 'hit') this.fastHit = this.observedHit;
    return this;
  }

  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): this {
    this.parts.events.off(event, listener);
    if (!this.parts.events.has('hit')) this.fastHit = this.plainHit;
    return this;
  }

  async warmCache(entries: readonly WarmEntry[], onProgress?: (done: number, total: number) => void): Promise<WarmResult> {
    this.assertOpen();
    if (!Array.isArray(entries)) throw new InvalidOptionError('entries', 'must be an array of warm entries');
    let warmed = 0;
    let skipped = 0;
    let failed = 0;
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < entries.length) {
        const entry = entries[next++]!;
        try {
          if (typeof entry !== 'object' || entry === null) throw new InvalidOptionError('entries', 'each must be an object');
          const options = { ttlSeconds: entry.ttlSeconds, tags: entry.tags };
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
          this.parts.config.logger.warn({ err: (err as Error).message, contentType: entry?.contentType }, 'warm entry failed');
        }
        onProgress?.(++done, entries.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WARM_CONCURRENCY, entries.length) }, worker));
    return { warmed, skipped, failed };
  }

  getPerformanceMetrics(): PerformanceMetrics {
    const { l1, l2, metrics } = this.parts;
    return metrics.snapshot({ l1Bytes: l1?.bytes ?? 0, l1Entries: l1?.entries ?? 0, breakerState: l2?.breaker.state ?? 'open' });
  }

  advise(): Advice[] {
    return adviseCache(this.getPerformanceMetrics(), this.parts.config);
  }

  async health(): Promise<CacheHealth> {
    const { l1, l2, l3, config, embeddedRedis } = this.parts;
    let pingMs: number | undefined;
    if (l2) {
      const t0 = performance.now();
      const pong = await l2.call((c) => c.ping());
      if (pong !== FAILED) pingMs = performance.now() - t0;
    }
    const l2Healthy = !config.l2Enabled || pingMs !== undefined;
    return {
      status: l2Healthy ? 'ok' : 'degraded',
      l1: { enabled: l1 !== undefined, entries: l1?.entries ?? 0, bytes: l1?.bytes ?? 0, maxBytes: l1?.maxBytes ?? 0 },
      l2: {
        enabled: l2 !== undefined,
        embedded: embeddedRedis !== undefined,
        url: l2 ? describeEndpoints(l2.endpoints) : undefined,
        tls: l2?.endpoints.tls ?? false,
        connected: l2?.client.status === 'ready',
        breaker: l2?.breaker.state ?? 'n/a',
        pingMs,
        pendingChanges: this.parts.recovery?.size ?? 0,
      },
      l3: { enabled: l3 !== undefined },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { bus, l2, embeddedRedis, l1, recovery } = this.parts;
    l1?.clear(); // the fast path finds nothing from now on, and the slow path says closed
    await Promise.allSettled([...this.flights.values()].map((f) => f.result));
    // What still holds a lock now is a background refresh: its write would find L2 closed.
    await Promise.allSettled(this.parts.locks.held().map(([lockKey, token]) => releaseComputeLock(this.parts, lockKey, token)));
    recovery?.close();
    await bus?.close();
    await l2?.close();
    await embeddedRedis?.stop();
    l1?.clear();
  }

  /** Called by the invalidation bus with L2 keys another instance changed. */
  dropFromL1(l2Keys: readonly string[]): void {
    this.parts.metrics.invalidationsReceived += 1;
    for (const k of l2Keys) this.parts.l1?.dropL2Key(k);
  }

  /**
   * Called by the invalidation bus when it is connected again after a drop, and once more when it
   * is subscribed again: an invalidation published in the gap was missed, so nothing L1 held (or
   * is being read from L2 right now) can be trusted; L1 is emptied and refills from L2.
   */
  busGap(): void {
    const { l1, coherence, config } = this.parts;
    coherence.epoch += 1;
    const dropped = l1?.entries ?? 0;
    l1?.clear();
    if (dropped > 0) config.logger.warn({ dropped }, 'invalidation bus reconnected: L1 entries dropped (invalidations may have been missed)');
  }

  // --- internals ---

  /** The L1 fast path: a fresh entry, or undefined (then the slow path decides). */
  private plainHit(key: string, contentType: ContentType, computeFn?: ComputeFn<unknown>, ns?: Namespace): FetchResult<unknown> | undefined {
    const l1 = this.parts.l1;
    if (l1 === undefined) return undefined;
    if ((++this.l1Tick & L1_SAMPLE_MASK) === 0) return this.timedHit(key, contentType, computeFn, ns);
    const entry = l1.get(contentType, key);
    if (entry === undefined) return undefined;
    const now = coarseNow();
    if (entry.expiresAt <= now) return undefined;
    if (entry.refreshAt <= now) this.refreshDue(entry, key, contentType, computeFn, ns);
    this.parts.metrics.l1Hits += 1;
    return entry.hit;
  }

  /** The fast path, timed: one call in L1_SAMPLE, so L1's latency is known at constant cost. */
  private timedHit(key: string, contentType: ContentType, computeFn: ComputeFn<unknown> | undefined, ns: Namespace | undefined): FetchResult<unknown> | undefined {
    const t0 = performance.now();
    const entry = this.parts.l1!.get(contentType, key);
    if (entry === undefined) return undefined;
    const now = coarseNow();
    if (entry.expiresAt <= now) return undefined;
    if (entry.refreshAt <= now) this.refreshDue(entry, key, contentType, computeFn, ns);
    this.parts.metrics.l1Hits += 1;
    this.parts.metrics.record('l1', (performance.now() - t0) * 1000);
    return entry.hit;
  }

  /** The fast path while someone listens to `hit`. */
  private observedHit(key: string, contentType: ContentType, computeFn?: ComputeFn<unknown>, ns?: Namespace): FetchResult<unknown> | undefined {
    const hit = this.plainHit(key, contentType, computeFn, ns);
    if (hit !== undefined) this.parts.events.emit('hit', { key, contentType, layer: 'l1' });
    return hit;
  }

  /** A fast-path hit past its eager refresh time: refreshed behind the caller, if the call can compute. */
  private refreshDue(entry: L1Entry, key: string, contentType: ContentType, computeFn: ComputeFn<unknown> | undefined, ns: Namespace | undefined): void {
    if (computeFn === undefined || entry.refreshing || this.closed) return;
    const ctx = this.context(key, contentType, undefined, ns, 'refresh');
    refreshInBackground(this.parts, ctx, computeFn, { result: entry.hit, refreshFrom: entry.valueExpiresAt, entry });
  }

  private async getSlow(key: string, contentType: ContentType, options: CacheCallOptions | undefined): Promise<unknown> {
    const ctx = this.context(key, contentType, options, undefined, 'get');
    const { metrics, events } = this.parts;
    metrics.lookups += 1;
    const now = Date.now();
    const inL1 = readL1(this.parts, ctx, now);
    if ('result' in inL1) return this.traced(ctx, inL1.result);
    const inL2 = await readL2(this.parts, ctx, now);
    if ('result' in inL2) return this.traced(ctx, inL2.result);
    const inL3 = await readL3(this.parts, ctx, now);
    if (inL3) return this.traced(ctx, inL3);
    metrics.misses += 1;
    if (events.has('miss')) events.emit('miss', { key, contentType });
    ctx.trace.end('miss');
    return undefined;
  }

  private traced(ctx: CallContext, result: FetchResult<unknown>): unknown {
    ctx.trace.end(result.source);
    return result.value;
  }

  /** The call's context, traced as `operation` (untraced without); throws the typed error its arguments earn. */
  private context(key: string, contentType: ContentType, options: CacheCallOptions | undefined, ns: Namespace | undefined, operation: string | undefined): CallContext {
    this.assertOpen();
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new InvalidKeyError(`a key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
    }
    const base = this.policies.get(contentType);
    if (base === undefined) throw new UnknownContentTypeError(contentType);
    if (options !== undefined) checkCallOptions(options);
    const policy = options?.policy ? { ...base, ...options.policy } : base;
    return { key, type: contentType, policy, options, keys: this.parts.layout.entry(contentType, key), namespace: ns, trace: operation ? startTrace(operation, contentType) : NO_TRACE };
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheError('the cache is closed');
  }
}

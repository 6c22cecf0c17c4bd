/**
 * What the cache tells listeners (`cache.on(name, listener)`): hits and
 * misses by layer, stale values served, timeouts, background refreshes, L2
 * failures and breaker changes. Payloads name the caller's key and content
 * type, never a value. Emitting costs nothing when no one listens: each
 * event keeps its own listener list and callers check it before building a
 * payload; the L1 fast path emits `hit` only while a `hit` listener exists
 * (the cache switches to an observed fast path then). A listener that
 * throws is logged and skipped, never the cache's failure.
 */
import type { BreakerState } from './circuit-breaker.js';
import type { CacheLogger } from './config.js';
import type { ContentType } from './content-types.js';

export interface CacheEventMap {
  /** A fresh value was found in a layer. */
  hit: { readonly key: string; readonly contentType: ContentType; readonly layer: 'l1' | 'l2' | 'l3' };
  /** No layer had a fresh value (a compute follows, if the call has one). */
  miss: { readonly key: string; readonly contentType: ContentType };
  /** A value past its TTL (within its grace) was served: the compute failed or was too slow. */
  stale: { readonly key: string; readonly contentType: ContentType; readonly reason: 'compute-failed' | 'soft-timeout' | 'hard-timeout' };
  /** A caller stopped waiting for a compute; the compute goes on in the background. */
  timeout: { readonly key: string; readonly contentType: ContentType; readonly kind: 'soft' | 'hard'; readonly timeoutMs: number; readonly served: 'stale' | 'error' };
  /** A background recompute started (eager refresh of a value past its threshold). */
  refresh: { readonly key: string; readonly contentType: ContentType; readonly reason: 'eager' };
  /** A Redis call failed (the cache went on without it). */
  'l2-error': { readonly error: Error };
  /** The L2 circuit breaker changed state. */
  breaker: { readonly state: BreakerState };
}

export type CacheEventName = keyof CacheEventMap;
export type CacheEventListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void;

const EVENT_NAMES: ReadonlySet<string> = new Set<CacheEventName>(['hit', 'miss', 'stale', 'timeout', 'refresh', 'l2-error', 'breaker']);

export function isCacheEventName(name: unknown): name is CacheEventName {
  return typeof name === 'string' && EVENT_NAMES.has(name);
}

export class CacheEvents {
  /** Listeners by event; an event without listeners has no entry. */
  private readonly listeners = new Map<CacheEventName, ((event: unknown) => void)[]>();

  constructor(private readonly logger: CacheLogger) {}

  on<E extends CacheEventName>(name: E, listener: CacheEventListener<E>): void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener as (event: unknown) => void);
    this.listeners.set(name, list);
  }

  off<E extends CacheEventName>(name: E, listener: CacheEventListener<E>): void {
    const list = this.listeners.get(name);
    const at = list?.indexOf(listener as (event: unknown) => void) ?? -1;
    if (at >= 0) list!.splice(at, 1);
    if (list?.length === 0) this.listeners.delete(name);
  }

  /** True while someone listens: check before building a payload. */
  has(name: CacheEventName): boolean {
    return this.listeners.has(name);
  }

  emit<E extends CacheEventName>(name: E, event: CacheEventMap[E]): void {
    const list = this.listeners.get(name);
    if (list === undefined) return;
    for (const listener of [...list]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.warn({ event: name, err: (err as Error).message }, 'cache event listener threw');
      }
    }
  }
}

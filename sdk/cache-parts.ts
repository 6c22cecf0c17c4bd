/**
 * The layers and services one cache instance is made of, as createCache
 * brought them up. The public class (./cache.ts) owns them; the read path,
 * the compute runner and the write path are functions over them.
 */
import type { CacheConfig } from './config.js';
import type { Keyring } from './crypto.js';
import type { RedisServer } from '../infra/redis-server.js';
import type { CacheEvents } from './events.js';
import type { InvalidationBus } from './invalidation-bus.js';
import type { KeyLayout } from './key-layout.js';
import type { L1 } from './l1.js';
import type { L2 } from './l2.js';
import type { L3Layer } from './l3/l3-layer.js';
import type { LockKeeper } from './lock-keeper.js';
import type { CacheMetrics } from './metrics.js';
import type { RecoveryQueue } from './recovery-queue.js';

export interface CacheParts {
  readonly config: CacheConfig;
  readonly layout: KeyLayout;
  readonly l1: L1 | undefined;
  readonly l2: L2 | undefined;
  readonly bus: InvalidationBus | undefined;
  readonly l3: L3Layer | undefined;
  readonly keyring: Keyring | undefined;
  readonly embeddedRedis: RedisServer | undefined;
  readonly metrics: CacheMetrics;
  readonly events: CacheEvents;
  /** L2 changes kept while Redis refused them, replayed when it is back (auto-recovery); undefined without L2. */
  readonly recovery: RecoveryQueue | undefined;
  /** L2 keys this instance is eagerly refreshing in the background. */
  readonly refreshing: Set<string>;
  /** Compute locks this instance holds while their compute runs, renewed; close() releases those still held. */
  readonly locks: LockKeeper;
  /** Bumped when the invalidation bus had a gap: L2 reads sent before it must not fill L1. */
  readonly coherence: { epoch: number };
}

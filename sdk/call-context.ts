/**
 * One cache call below the L1 fast path: the caller's key and content type,
 * the policy in force (the type's, with any per-call override), the options,
 * the entry's Redis names, derived once, the namespace the call is in and
 * its trace. The read path, the compute runner and the write path all take
 * this instead of a row of parameters.
 */
import { policyProblem, type CachePolicy, type ContentType } from './content-types.js';
import { InvalidOptionError } from './errors.js';
import type { EntryKeys } from './key-layout.js';
import type { Namespace } from './namespace.js';
import type { CallTrace } from './tracing.js';

export interface CacheCallOptions {
  /** Overrides the policy's TTL for this value. */
  readonly ttlSeconds?: number;
  /** Tags for invalidateTag. */
  readonly tags?: readonly string[];
  /**
   * Whose input this value comes from (a bear's device id): the value is indexed under it, so
   * `eraseSubject` can remove it (sdk/subject-index.ts). Reads that hit record the subject too.
   */
  readonly subject?: string;
  /** Overrides any policy field for this call. */
  readonly policy?: Partial<CachePolicy>;
  /** Overrides the policy's soft timeout (ms): with a stale value at hand, wait at most this long for a compute. */
  readonly softTimeoutMs?: number;
  /** Overrides the policy's hard timeout (ms): wait at most this long for a compute, then stale or TimeoutError. */
  readonly hardTimeoutMs?: number;
  /** Overrides the policy's eager refresh threshold (0 < t < 1 of the TTL). */
  readonly eagerRefreshThreshold?: number;
  /** Neither read nor write this process's memory (L1). */
  readonly skipL1?: boolean;
  /** Do not read Redis (L2); a compute then takes no cross-instance lock. */
  readonly skipL2Read?: boolean;
  /** Do not write (or delete in) Redis (L2); nothing is announced to the other instances either. */
  readonly skipL2Write?: boolean;
  /** Write Redis but do not tell the other instances (their L1 copies stay until they expire). */
  readonly skipBusNotify?: boolean;
}

export interface CallContext {
  readonly key: string;
  readonly type: ContentType;
  readonly policy: CachePolicy;
  readonly options: CacheCallOptions | undefined;
  readonly keys: EntryKeys;
  /** The namespace view the call came through, if any: its tags are scoped to it. */
  readonly namespace: Namespace | undefined;
  readonly trace: CallTrace;
}

const SKIPS = ['skipL1', 'skipL2Read', 'skipL2Write', 'skipBusNotify'] as const;

/** Tags as a call or a compute function (`ctx.setTags`) may give them: an array of non-empty strings. */
export function isTagList(list: unknown): list is readonly string[] {
  return Array.isArray(list) && list.every((t) => typeof t === 'string' && t !== '');
}

/**
 * Throws InvalidOptionError for an option out of range, before anything runs: a bad TTL or tag
 * found only when the computed value is written would waste the compute (a provider call), and an
 * infinite TTL would be refused by Redis for good. `subject` is checked where it is used.
 */
export function checkCallOptions(options: CacheCallOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'must be an object');
  if (options.policy !== undefined && (typeof options.policy !== 'object' || options.policy === null)) throw new InvalidOptionError('policy', 'must be an object');
  const own = policyProblem(options);
  if (own) throw new InvalidOptionError(own[0], own[1]);
  const inPolicy = options.policy ? policyProblem(options.policy) : undefined;
  if (inPolicy) throw new InvalidOptionError(`policy.${inPolicy[0]}`, inPolicy[1]);
  if (options.tags !== undefined && !isTagList(options.tags)) throw new InvalidOptionError('tags', 'must be an array of non-empty strings');
  for (const skip of SKIPS) {
    if (options[skip] !== undefined && typeof options[skip] !== 'boolean') throw new InvalidOptionError(skip, 'must be true or false');
  }
}

/** True if the call skips a layer (its in-process flight is then not shared with calls that do not). */
export function skipsLayers(options: CacheCallOptions | undefined): boolean {
  return options !== undefined && SKIPS.some((s) => options[s] === true);
}

/** The call's skips as a short string (part of the key of its in-process flight). */
export function skipsOf(options: CacheCallOptions): string {
  return SKIPS.map((s) => (options[s] === true ? '1' : '0')).join('');
}

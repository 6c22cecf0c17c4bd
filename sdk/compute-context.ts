/**
 * Adaptive caching: what a compute function may decide about the value it
 * returns, once it has seen it (`computeFn(ctx)`). A provider's answer can
 * say how long it holds (`setTtl`), what it is about (`setTags`), or that
 * it must not be kept at all (`skip`: low confidence, flagged unsafe); the
 * stale value, if one is at hand, helps decide (`ctx.stale`). A compute
 * function that takes no argument works as before.
 */
import { isTagList } from './call-context.js';
import { policyProblem } from './content-types.js';
import { InvalidOptionError } from './errors.js';

export interface ComputeContext<T> {
  /** The value this compute replaces (past its TTL, within its grace, or due for an eager refresh), if any. */
  readonly stale: T | undefined;
  /** Keep the returned value this many seconds instead of the policy's (or the call's) TTL. */
  setTtl(seconds: number): void;
  /** Tag the returned value with these tags instead of the call's. */
  setTags(tags: readonly string[]): void;
  /** Return the value to the caller but cache it nowhere. */
  skip(): void;
}

export type ComputeFn<T> = (ctx: ComputeContext<T>) => Promise<T> | T;

/** What the compute decided; read by the write path after the compute returned. */
export interface ComputeDecisions {
  readonly ttlSeconds: number | undefined;
  readonly tags: readonly string[] | undefined;
  readonly skipped: boolean;
}

export function createComputeContext<T>(stale: T | undefined): { ctx: ComputeContext<T>; decisions: () => ComputeDecisions } {
  let ttlSeconds: number | undefined;
  let tags: readonly string[] | undefined;
  let skipped = false;
  const ctx: ComputeContext<T> = {
    stale,
    setTtl(seconds) {
      const problem = policyProblem({ ttlSeconds: seconds });
      if (problem) throw new InvalidOptionError('setTtl', problem[1]);
      ttlSeconds = seconds;
    },
    setTags(list) {
      if (!isTagList(list)) throw new InvalidOptionError('setTags', 'tags must be non-empty strings');
      tags = [...list];
    },
    skip() {
      skipped = true;
    },
  };
  return { ctx, decisions: () => ({ ttlSeconds, tags, skipped }) };
}

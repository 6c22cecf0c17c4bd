/**
 * One miss being resolved in this process (in-process single flight): every
 * caller of the same entry shares it. Besides the outcome it tells, as soon
 * as the layers below L1 have been asked, which stale value (if any) may
 * stand in, so each caller can apply its own soft and hard timeouts
 * (./timeouts.ts) while the compute goes on.
 */
import type { FetchResult } from './fetch-result.js';
import type { Stale } from './read-path.js';

export class Flight<T> {
  /** The stale stand-in found below L1, once the lookup is over (undefined: none). */
  readonly stale: Promise<Stale | undefined>;
  readonly result: Promise<FetchResult<T>>;

  /** `run` resolves the miss and calls `looked` once it knows the stale stand-in. */
  constructor(run: (looked: (stale: Stale | undefined) => void) => Promise<FetchResult<T>>) {
    let looked!: (stale: Stale | undefined) => void;
    this.stale = new Promise((resolve) => (looked = resolve));
    this.result = run(looked);
    // A miss answered without a compute (a hit below L1, an error) never calls `looked`.
    const none = () => looked(undefined);
    this.result.then(none, none);
  }
}

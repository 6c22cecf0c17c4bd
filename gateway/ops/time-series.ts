/**
 * One process's time series, bounded: fine samples (one per ops interval) for
 * the last hour or so, and coarse records (one per 5 wall-clock minutes,
 * merged from the fine ones) for the last 25 hours. A window of any length up
 * to 24 h is answered from the fine samples when they reach back far enough,
 * else from the coarse records plus the fine samples after the newest one.
 * The same selection serves the fleet's series read back from Redis.
 */
import { mergeOverTime, type Sample } from './sample.js';

export const COARSE_PERIOD_MS = 5 * 60_000;
/** 25 h of coarse records: a 24 h window always has a full day. */
export const COARSE_CAPACITY = 300;
const FINE_SPAN_MS = 65 * 60_000;
const FINE_MAX = 4000;

/** Periods are (p·5 min, (p+1)·5 min]: a sample ending on a boundary belongs to the period it ends. */
const periodOf = (t: number): number => Math.ceil(t / COARSE_PERIOD_MS) - 1;

/** Fine samples kept at this interval: 65 minutes' worth, at most 4000 (at least one coarse period's). */
export function fineCapacity(intervalMs: number): number {
  return Math.min(FINE_MAX, Math.ceil(FINE_SPAN_MS / intervalMs));
}

/** The samples, oldest first, that cover the window starting at `start` (ms since the epoch). */
export function samplesSince(fine: readonly Sample[], coarse: readonly Sample[], start: number): Sample[] {
  const firstFine = fine[0];
  if (coarse.length === 0 || (firstFine !== undefined && firstFine.t - firstFine.dtMs <= start)) return fine.filter((s) => s.t > start);
  const newestCoarse = coarse[coarse.length - 1]!.t;
  return [...coarse.filter((s) => s.t > start), ...fine.filter((s) => s.t > Math.max(start, newestCoarse))];
}

export class TimeSeries {
  private readonly fineSamples: Sample[] = [];
  private readonly coarseSamples: Sample[] = [];
  private pending: Sample[] = [];
  private readonly fineMax: number;

  constructor(intervalMs: number) {
    this.fineMax = fineCapacity(intervalMs);
  }

  /** Adds the newest sample; returns the coarse record it completed, if the 5-minute period turned. */
  add(sample: Sample): Sample | undefined {
    let completed: Sample | undefined;
    const last = this.pending[this.pending.length - 1];
    if (last && periodOf(last.t) !== periodOf(sample.t)) {
      completed = mergeOverTime(this.pending)!;
      this.coarseSamples.push(completed);
      if (this.coarseSamples.length > COARSE_CAPACITY) this.coarseSamples.shift();
      this.pending = [];
    }
    this.pending.push(sample);
    this.fineSamples.push(sample);
    if (this.fineSamples.length > this.fineMax) this.fineSamples.shift();
    return completed;
  }

  get fine(): readonly Sample[] {
    return this.fineSamples;
  }

  get coarse(): readonly Sample[] {
    return this.coarseSamples;
  }

  get latest(): Sample | undefined {
    return this.fineSamples[this.fineSamples.length - 1];
  }

  /** The samples covering the last `ms` before `now`, oldest first. */
  since(start: number): Sample[] {
    return samplesSince(this.fineSamples, this.coarseSamples, start);
  }
}

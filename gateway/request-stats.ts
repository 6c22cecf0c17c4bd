/**
 * The request path's counts and durations, as plain numbers. A request costs
 * a few increments and one bucket search here; recording it straight into
 * prom-client would cost more than the rest of a cached answer (it hashes a
 * label object on every inc and observe, children included). ./metrics.ts
 * turns these into Prometheus samples when /metrics is scraped.
 */
import { LATENCY_BUCKET_BOUNDS_MS } from '../sdk/index.js';

/**
 * Upper bounds (seconds) of the request-duration histograms' buckets: the SDK's fixed latency
 * buckets, so the ops time series adds and compares request and cache latencies alike (the
 * SLOs' 50 and 100 ms thresholds are bounds).
 */
export const DURATION_BUCKETS: readonly number[] = LATENCY_BUCKET_BOUNDS_MS.map((ms) => ms / 1000);

const emptyDurations = (): DurationCounts => ({ buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 });

function observe(d: DurationCounts, seconds: number): void {
  let i = 0;
  while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
  d.buckets[i] = d.buckets[i]! + 1;
  d.sum += seconds;
  d.count += 1;
}

export interface DurationCounts {
  /** Per bucket of DURATION_BUCKETS (not cumulative), then one for larger values. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

export class RequestStats {
  /** type -> outcome -> requests. */
  readonly requests = new Map<string, Map<string, number>>();
  readonly durations = new Map<string, DurationCounts>();
  /** Utterances the cache missed (the provider supplied the reply), request to answer. */
  readonly missAnswers: DurationCounts = emptyDurations();
  /** AnswerSource -> answers. */
  readonly answers = new Map<number, number>();

  countRequest(type: string, outcome: string): void {
    let outcomes = this.requests.get(type);
    if (outcomes === undefined) this.requests.set(type, (outcomes = new Map()));
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }

  observeSeconds(type: string, seconds: number): void {
    let d = this.durations.get(type);
    if (d === undefined) this.durations.set(type, (d = emptyDurations()));
    observe(d, seconds);
  }

  observeMissAnswer(seconds: number): void {
    observe(this.missAnswers, seconds);
  }

  countAnswer(source: number): void {
    this.answers.set(source, (this.answers.get(source) ?? 0) + 1);
  }
}

/**
 * The request path's counts and durations, as plain numbers. A request costs
 * a few increments and one bucket search here; recording it straight into
 * prom-client would cost more than the rest of a cached answer (it hashes a
 * label object on every inc and observe, children included). ./metrics.ts
 * turns these into Prometheus samples when /metrics is scraped.
 */

/** Upper bounds (seconds) of the request-duration histogram's buckets. */
export const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

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
  /** AnswerSource -> answers. */
  readonly answers = new Map<number, number>();

  countRequest(type: string, outcome: string): void {
    let outcomes = this.requests.get(type);
    if (outcomes === undefined) this.requests.set(type, (outcomes = new Map()));
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }

  observeSeconds(type: string, seconds: number): void {
    let d = this.durations.get(type);
    if (d === undefined) this.durations.set(type, (d = { buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    d.buckets[i] = d.buckets[i]! + 1;
    d.sum += seconds;
    d.count += 1;
  }

  countAnswer(source: number): void {
    this.answers.set(source, (this.answers.get(source) ?? 0) + 1);
  }
}

/**
 * npm run bench:ops — what the operations layer costs a gateway process, off
 * the request path: one evaluation (SLOs over 5 min / 1 h / 24 h and every
 * health rule) on a full series at the default 5 s interval (780 fine
 * samples, 300 coarse records), as a share of the interval it runs in; and
 * one fleet report (all windows, charts, trends, capacity, recommendations)
 * over 1 and 10 full processes. The samples are built from readings by the
 * real code (sampleBetween, TimeSeries). Prints a table and writes
 * bench/results/ops.json with `ratios` and `goals`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { emptyLatencyBuckets, latencyBucketIndex } from '../sdk/index.js';
import { DEFAULT_OPTIONS } from '../gateway/options.js';
import { evaluateSeries } from '../gateway/ops/evaluation.js';
import type { ProcessSeries } from '../gateway/ops/fleet-series.js';
import { DEFAULT_OPS_CONFIG } from '../gateway/ops/ops-config.js';
import { buildReport } from '../gateway/ops/ops-report.js';
import { LAYERS, type Reading } from '../gateway/ops/reading.js';
import { sampleBetween } from '../gateway/ops/sample.js';
import { TimeSeries } from '../gateway/ops/time-series.js';
import { formatTable } from '../simulator/summary-table.js';

const INTERVAL_MS = DEFAULT_OPTIONS.opsIntervalMs;
const HOURS = 25;
const MiB = 1048576;

/** A process at 200 messages/s, 90 % L1 hits, some latency spread, growing memory, for 25 h. */
function fullSeries(seed: number): TimeSeries {
  const series = new TimeSeries(INTERVAL_MS);
  const start = Date.now() - HOURS * 3_600_000;
  const buckets = (i: number) => {
    const b = emptyLatencyBuckets();
    b[latencyBucketIndex(0.4)] = 900 * i;
    b[latencyBucketIndex(3 + (seed % 5))] = 90 * i;
    b[latencyBucketIndex(300)] = 10 * i;
    return b;
  };
  const reading = (i: number): Reading => ({
    at: start + i * INTERVAL_MS,
    requests: 1000 * i, serverErrors: i,
    layers: Object.fromEntries(LAYERS.map((l) => [l, { hits: (l === 'l1' ? 900 : 60) * i, misses: (l === 'l1' ? 100 : 40) * i, errors: 0 }])) as Reading['layers'],
    lookups: 3000 * i, computes: 30 * i, staleServed: 0, evictions: i,
    providerCalls: { transcribe: 10 * i, respond: 10 * i, synthesize: 10 * i }, providerErrors: 0,
    latency: { l2: buckets(i), missAnswer: buckets(i), answer: buckets(i) },
    cpuMs: 400 * i, bears: 1000 + (i % 100), rssBytes: (150 + i / 1000) * MiB, heapUsedBytes: 60 * MiB, l1Bytes: (20 + i / 2000) * MiB, l1MaxBytes: 256 * MiB,
    breakerState: 'closed', l2Configured: true, redisConnected: true, eventLoopP99Ms: 12,
  });
  let prev = reading(0);
  for (let i = 1; i <= (HOURS * 3_600_000) / INTERVAL_MS; i++) {
    const next = reading(i);
    series.add(sampleBetween(prev, next, DEFAULT_OPS_CONFIG.slos));
    prev = next;
  }
  return series;
}

/** Median ms of `runs` calls (after a warm-up). */
function median(runs: number, fn: () => unknown): number {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const series = Array.from({ length: 10 }, (_, i) => fullSeries(i));
const now = series[0]!.latest!.t;
const processes: ProcessSeries[] = series.map((s, i) => ({
  status: {
    id: `bench-${i}`, host: 'bench', pid: i, startedAt: now - HOURS * 3_600_000, lastSeenAt: now, httpUrl: '', intervalMs: INTERVAL_MS,
    firing: [], recent: [], advice: [], memoryLimitBytes: 256 * MiB, l1MaxBytes: 256 * MiB,
  },
  fine: s.fine, coarse: s.coarse,
}));

const tickMs = median(200, () => evaluateSeries(series[0]!, DEFAULT_OPS_CONFIG, now));
const report = (n: number) => median(20, () => buildReport({ processes: processes.slice(0, n), config: DEFAULT_OPS_CONFIG, source: { instance: 'bench', httpUrl: '' }, now }));
const report1 = report(1);
const report10 = report(10);

process.stdout.write(`${formatTable([
  ['what', 'median ms', 'note'],
  ['evaluation (SLOs + rules), 1 process', tickMs.toFixed(3), `every ${INTERVAL_MS / 1000} s: ${((tickMs / INTERVAL_MS) * 100).toFixed(4)} % of a core`],
  ['fleet report, 1 process', report1.toFixed(1), 'on demand (report command)'],
  ['fleet report, 10 processes', report10.toFixed(1), 'on demand (report command)'],
  ['series kept per process', `${series[0]!.fine.length} fine + ${series[0]!.coarse.length} coarse`, ''],
])}\n`);

const ratios = {
  evaluationShareOfInterval: tickMs / INTERVAL_MS,
  /** Report cost per process at 10 processes over the cost at 1: ~1 is linear in the fleet. */
  reportPerProcess10Over1: report10 / 10 / report1,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ops.json', `${JSON.stringify({
  measuredAt: new Date().toISOString(), intervalMs: INTERVAL_MS, evaluationMs: tickMs, reportMs: { processes1: report1, processes10: report10 },
  ratios,
  // Evaluation under 0.1 % of a core; a report's cost per process no more than doubles from 1 to 10 processes
  // (merging ten processes' samples per chart step costs more than passing one through).
  goals: { evaluationShareOfInterval: { max: 0.001 }, reportPerProcess10Over1: { max: 2 } },
}, null, 2)}\n`);
process.stderr.write('bench:ops: wrote bench/results/ops.json\n');

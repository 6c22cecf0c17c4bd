/**
 * The `top` screen: one frame from two live views a second apart — bears,
 * requests per second, hit rate per layer, latency, memory, event-loop delay,
 * L2 state, the fleet, and the alerts firing. Rates and latencies are over
 * the time between the two views; the first frame shows totals since start.
 * Pure text, so the CLI only has to clear the terminal and print it.
 */
import { combineLatencyBuckets, latencyQuantile } from '../../sdk/index.js';
import type { LiveView } from './operations.js';
import type { Reading } from './reading.js';

const MiB = 1048576;
const pct = (x: number | undefined): string => (x === undefined ? '   –  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
const ms = (x: number | undefined): string => (x === undefined ? '–' : x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
const rate = (hits: number, misses: number): number | undefined => (hits + misses > 0 ? hits / (hits + misses) : undefined);
const uptime = (s: number): string => {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
};

/** b − a for every counter of a reading (a = undefined: b itself). */
function since(a: Reading | undefined, b: Reading) {
  const d = (x: number, y: number | undefined) => Math.max(0, x - (y ?? 0));
  const layer = (l: keyof Reading['layers']) => ({ hits: d(b.layers[l].hits, a?.layers[l].hits), misses: d(b.layers[l].misses, a?.layers[l].misses) });
  const buckets = (pick: (r: Reading) => readonly number[]) => (a ? combineLatencyBuckets(pick(b), pick(a), -1) : [...pick(b)]);
  return {
    seconds: a ? Math.max(0.001, (b.at - a.at) / 1000) : undefined,
    requests: d(b.requests, a?.requests),
    serverErrors: d(b.serverErrors, a?.serverErrors),
    l1: layer('l1'), l2: layer('l2'), l3: layer('l3'),
    lookups: d(b.lookups, a?.lookups),
    computes: d(b.computes, a?.computes),
    providerCalls: d(Object.values(b.providerCalls).reduce((x, y) => x + y, 0), a ? Object.values(a.providerCalls).reduce((x, y) => x + y, 0) : 0),
    answer: buckets((r) => r.latency.answer),
    missAnswer: buckets((r) => r.latency.missAnswer),
    l2Latency: buckets((r) => r.latency.l2),
  };
}

export function renderTop(prev: LiveView | undefined, cur: LiveView, now = Date.now()): string[] {
  const r = cur.reading;
  const d = since(prev?.reading, r);
  const per = (n: number): string => (d.seconds === undefined ? `${n} total` : `${(n / d.seconds).toFixed(1)}/s`);
  const over = d.seconds === undefined ? 'since start' : `last ${d.seconds.toFixed(1)} s`;
  const clock = new Date(now).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const lines = [
    `teddycache top — ${cur.httpUrl} — ${clock}   (q quits)`,
    `process ${cur.instance}, up ${uptime((now - cur.startedAt) / 1000)}    fleet: ${cur.fleet.live} live process${cur.fleet.live === 1 ? '' : 'es'}, ${cur.fleet.bears} bears, ${cur.fleet.requestsPerSecond.toFixed(1)} requests/s`,
    ...(cur.fleet.notice ? [`  ${cur.fleet.notice}`] : []),
    '',
    `bears        ${r.bears}`,
    `requests     ${per(d.requests)}   failed by the gateway ${per(d.serverErrors)}   provider calls ${per(d.providerCalls)}   (${over})`,
    `hit rate     L1 ${pct(rate(d.l1.hits, d.l1.misses))}   L2 ${pct(rate(d.l2.hits, d.l2.misses))}   L3 ${pct(rate(d.l3.hits, d.l3.misses))}   miss (computed) ${pct(d.lookups > 0 ? d.computes / d.lookups : undefined)}`,
    `latency      answer p50 ${ms(latencyQuantile(d.answer, 0.5))}  p99 ${ms(latencyQuantile(d.answer, 0.99))}   miss answered p99 ${ms(latencyQuantile(d.missAnswer, 0.99))}   L2 read p99 ${ms(latencyQuantile(d.l2Latency, 0.99))}`,
    `memory       RSS ${(r.rssBytes / MiB).toFixed(0)} MB of ${(cur.memoryLimitBytes / MiB).toFixed(0)} MB   heap ${(r.heapUsedBytes / MiB).toFixed(0)} MB   L1 ${(r.l1Bytes / MiB).toFixed(1)} MB of ${(r.l1MaxBytes / MiB).toFixed(0)} MB`,
    `event loop   delay p99 ${ms(r.eventLoopP99Ms)}`,
    `L2           breaker ${r.breakerState}, Redis ${r.redisConnected === undefined ? 'not configured' : r.redisConnected ? 'connected' : 'DISCONNECTED'}`,
    '',
    cur.firing.length === 0 ? 'alerts       none firing' : `alerts       ${cur.firing.length} firing`,
    ...cur.firing.map((a) => `  ${a.severity.toUpperCase().padEnd(8)} ${a.alert}${a.labels.slo ? ` (${a.labels.slo})` : ''}  since ${new Date(a.since).toISOString().slice(11, 19)}  ${a.summary}  [${a.instance}]`),
  ];
  return lines;
}

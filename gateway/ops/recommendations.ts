/**
 * Recommendations: what to change, each with the evidence that triggered it
 * (the figures, the bound they crossed, the window). Two sources: the SDK's
 * advice rules (sdk/advice.ts), as each process reported them, and the fleet
 * rules here, over the fleet's SLOs, trends, capacity and errors.
 */
import type { Advice } from '../../sdk/index.js';
import type { Capacity } from './capacity.js';
import type { SloName } from './ops-config.js';
import type { Sample } from './sample.js';
import type { SloStatus } from './slo.js';
import type { Trend } from './trends.js';

export interface Recommendation {
  readonly code: string;
  readonly source: 'sdk' | 'fleet';
  readonly message: string;
  readonly evidence: Readonly<Record<string, number | string>>;
  /** The processes it applies to (SDK advice is per process). */
  readonly instances?: readonly string[];
}

export interface RecommendationInputs {
  readonly slos: readonly SloStatus[];
  readonly trends: readonly Trend[];
  readonly capacity: Capacity;
  /** The fleet over the last hour. */
  readonly hour: Sample;
  readonly advice: readonly { readonly instance: string; readonly advice: readonly Advice[] }[];
  readonly now: number;
}

/** Trends that cross their limit within this long get a recommendation. */
const TREND_WARNING_MS = 7 * 86_400_000;
const PROVIDER_ERROR_SHARE = 0.05;
const LOOP_LAG_MS = 100;

const WHAT_TO_DO: Record<SloName, string> = {
  l1HitRate: 'raise l1MaxSizeMb if L1 evicts, warm the most asked lines, and check that keys carry no volatile data',
  l2Latency: 'Redis is slow: check its CPU and slowlog, the network between gateways and Redis, and l2TimeoutMs',
  memory: 'raise the memory limit or spread the bears over more gateway processes',
  missRecovery: 'misses wait on the provider: warm the common lines ahead of demand, or set the threshold to what the provider can meet',
  availability: 'the gateway is failing messages: the logs name them (internal = a bug, upstream = the provider)',
};

const round = (x: number | undefined, digits = 4): number | string => (x === undefined ? 'n/a' : +x.toFixed(digits));

export function recommend(i: RecommendationInputs): Recommendation[] {
  const out: Recommendation[] = [];
  for (const slo of i.slos) {
    const hour = slo.windows.find((w) => w.window === '1h')!;
    if (hour.compliant !== false) continue;
    out.push({
      code: `slo-${slo.name}`,
      source: 'fleet',
      message: `${slo.target} is not met over the last hour (${round(hour.sli! * 100, 2)} % good): ${WHAT_TO_DO[slo.name]}.`,
      evidence: { window: '1h', sli: round(hour.sli), objective: slo.objective, good: round(hour.good, 1), valid: round(hour.valid, 1), measured: round(hour.measured, 2), burnRate: round(hour.burnRate, 2) },
    });
  }
  for (const t of i.trends) {
    if (t.crossesAt === undefined || !t.limit || t.crossesAt - i.now > TREND_WARNING_MS) continue;
    out.push({
      code: 'trend-to-limit',
      source: 'fleet',
      message: `${t.message}: act before then (raise the limit or add capacity).`,
      evidence: { metric: t.metric, current: round(t.current, 2), slopePerHour: round(t.slopePerHour, 3), limit: t.limit.value, crossesAt: new Date(t.crossesAt).toISOString(), windowHours: round(t.windowHours, 2), points: t.points },
    });
  }
  const c = i.capacity;
  if (c.processesNeeded !== undefined && c.processesNeeded > c.processes) {
    out.push({
      code: 'add-capacity',
      source: 'fleet',
      message: `the measured load needs ${c.processesNeeded} gateway processes, ${c.processes} are running: add ${c.processesNeeded - c.processes}.`,
      evidence: {
        bears: c.bears, requestsPerSecond: round(c.requestsPerSecond, 1), maxBearsPerProcess: round(c.perProcess.maxBears, 0),
        maxRequestsPerSecondPerProcess: round(c.perProcess.maxRequestsPerSecond, 0), limitedBy: c.perProcess.limitedBy ?? 'n/a',
      },
    });
  }
  const calls = Object.values(i.hour.providerCalls).reduce((a, b) => a + b, 0);
  if (calls >= 20 && i.hour.providerErrors / calls > PROVIDER_ERROR_SHARE) {
    out.push({
      code: 'provider-failing',
      source: 'fleet',
      message: `${i.hour.providerErrors} of ${calls} provider calls failed in the last hour: check the provider's status and credentials; cached lines keep being answered.`,
      evidence: { window: '1h', providerErrors: i.hour.providerErrors, providerCalls: calls, threshold: PROVIDER_ERROR_SHARE },
    });
  }
  if (i.hour.eventLoopP99Ms > LOOP_LAG_MS) {
    out.push({
      code: 'event-loop-busy',
      source: 'fleet',
      message: `the event loop stalled up to ${i.hour.eventLoopP99Ms.toFixed(0)} ms (p99) in the last hour: a process is CPU-bound; run more gateway processes or put fewer bears on each.`,
      evidence: { window: '1h', eventLoopP99Ms: round(i.hour.eventLoopP99Ms, 1), threshold: LOOP_LAG_MS },
    });
  }
  for (const { instance, advice } of i.advice) {
    for (const a of advice) out.push({ code: a.code, source: 'sdk', message: a.message, evidence: a.evidence, instances: [instance] });
  }
  return out;
}

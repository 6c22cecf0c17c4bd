/**
 * The JSON report of a run: what each cache layer served, latency against the
 * baselines, what the gateway cost in CPU and memory, bytes on the wire,
 * provider calls and their modelled price, and a timeline. `checkReport`
 * verifies the accounting adds up; the CLI exits non-zero when it does not.
 */
import type { GatewayFleet, ProcessLoad } from './gateway-fleet.js';
import type { GatewayCounters } from './gateway-metrics.js';
import type { GatewayProcess, ResourceSample } from './gateway-process.js';
import { summarizeLatency, type LatencySummary } from '../sdk/index.js';
import { percentileCurve } from './histograms.js';
import type { Bucket, Counters, Outage } from './run-metrics.js';
import type { FlashPolicyComparison, SimulationResult } from './simulation.js';
import type { TlsCost } from './tls-cost.js';

/**
 * Modelled provider prices per call, USD (public list prices, late 2024, for a
 * ~2 s utterance and a ~80-character reply): speech-to-text at $0.006/min,
 * a small LLM (~500 tokens in, ~100 out at $0.15/$0.60 per M), TTS at $15 per
 * M characters. They set the scale of "cost saved"; the call counts are measured.
 */
export const COST_MODEL_USD = { transcribe: 0.0002, respond: 0.000135, synthesize: 0.0012 } as const;
export type ProviderCall = keyof typeof COST_MODEL_USD;

export interface LayerRate {
  hits: number;
  /** Requests that reached this layer's decision. */
  of: number;
  rate: number;
}

export interface Report {
  version: 1;
  generatedAt: string;
  config: {
    bears: number; durationS: number; seed: number; skew: number; phrases: number;
    flashBudgetBytes: number; connectRatePerS: number; cdnEdge: boolean; gateway: 'child' | 'external';
    /** Gateway processes (separate ports), their workers each, and where their fleet state lives. */
    gateways: number; workers: number; store: 'embedded' | 'redis' | 'cluster' | 'external';
    /** Bears on MQTTS + HTTPS (--tls) or plaintext. */
    transport: 'tls' | 'plaintext';
  };
  /** With --tls: what TLS costs the gateway, against plaintext, measured after the fleet. */
  tlsCost?: TlsCost;
  phases: { connectS: number; trafficS: number; drainS: number };
  requests: {
    utterances: number; offline: number; sent: number; answered: number; errors: number;
    timeouts: number; unfinished: number; retries: number; malformedFromGateway: number;
    /** Sent again, same correlation id, after the bear came back from a lost connection. */
    resent: number;
    /** Answered after a retry or a resend: in flight when something failed, and still answered. */
    answeredAfterRetry: number;
    /** Second answers to a request sent twice (the bear used the first). */
    duplicateAnswers: number;
  };
  /** Hit rate per layer. flash: plays served from the bear's flash; l1/l2/miss: share of answers by the layer that answered; l3: clip downloads the L3 origin (or its CDN edge) served. */
  layers: { flash: LayerRate; l1: LayerRate; l2: LayerRate; l3: LayerRate; miss: LayerRate; other: LayerRate };
  audio: Counters['audio'];
  /** Warm manifests the bears applied, and the clips they stored or could not. */
  warm: { manifests: number; clipsStored: number; clipsFailed: number; bytes: number };
  latency: {
    answer: LatencySummary; play: LatencySummary; connect: LatencySummary;
    /** After the fleet, on the idle gateway: new text every time, and the same text every time. */
    noCache?: LatencySummary; cachedIdle?: LatencySummary;
    /** Bare-broker echo during the traffic phase. */
    transportFloor?: LatencySummary;
    curves: { answer: [number, number][]; play: [number, number][]; noCache: [number, number][]; transportFloor: [number, number][] };
  };
  /** The first (or only) gateway process; `processes` has every process that served bears. */
  gateway: {
    pid?: number; restarts: number; crashes: GatewayProcess['crashes']; peakRssMB?: number; meanCpuPct?: number; maxCpuPct?: number;
    samples: ResourceSample[];
    processes: ProcessLoad[];
  };
  /** Gateway processes and Redis masters killed during the run, and what the bears saw. */
  failovers: {
    gatewayKills: (FailoverWindow & { gateway: number; pid: number; role: string })[];
    redisKills: (FailoverWindow & { node: string })[];
    /** Outages the bears recovered from over the whole run (drops included): time without a connection. */
    outages: { count: number; movedGateway: number; p50S: number; p95S: number; maxS: number };
    bearsOfflineAtEnd: number;
  };
  connections: { connected: number; connects: number; failures: number; drops: number; connectRatePerS: number };
  bytes: {
    mqttOut: number; mqttIn: number; origin: number; edge: number; warm: number;
    /** Clip bytes the plays would have downloaded with no flash cache at all. */
    withoutFlash: number;
  };
  provider: {
    calls: Record<ProviderCall, number>;
    callsWithoutCache: Record<ProviderCall, number>;
    callsAvoided: number;
    costUsd: number; costWithoutCacheUsd: number; savedUsd: number;
    costModelUsd: typeof COST_MODEL_USD;
    /** 'gateway': counted by the gateway (its metrics endpoint); 'modelled': three calls per answer the bears saw come from the provider (an upper bound). */
    callsSource: 'gateway' | 'modelled';
  };
  /** Hits and misses per SDK cache layer as the gateway counted them during the run (all content types), when available. */
  gatewayCache?: Record<string, LayerRate>;
  flashPolicies: FlashPolicyComparison & { rates: { firmware: number; firmwareDemandOnly: number; belady: number; lru: number } };
  timeline: {
    bucketS: number; trafficStartS: number; trafficEndS: number; buckets: TimelineBucket[];
    /** Storms and warm pushes, seconds from the start of the run. */
    events: { t: number; kind: string; bears?: number }[];
  };
  notices: string[];
}

/** What the bears saw around one kill (seconds from the start of the run). */
export interface FailoverWindow {
  t: number;
  /** Bears that lost their connection within OUTAGE_WINDOW_S of it, and how long until each was back. */
  bearsDisconnected: number;
  movedGateway: number;
  backP50S: number;
  backMaxS: number;
  /** Answers, errors and timeouts in the WINDOW_S before and after it; mean answer latency. */
  before: WindowCounts;
  after: WindowCounts;
}

export interface WindowCounts {
  answers: number;
  errors: number;
  timeouts: number;
  meanLatencyMs: number;
}

/** Outages starting this soon after a kill are the kill's. */
const OUTAGE_WINDOW_S = 3;
const WINDOW_S = 10;

export interface TimelineBucket {
  t: number; requests: number; answers: number; l1: number; l2: number; miss: number; flash: number; plays: number;
  mqttBytes: number; clipBytes: number; providerCallsAvoided: number; meanLatencyMs: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const rate = (hits: number, of: number): LayerRate => ({ hits, of, rate: ratio(hits, of) });
const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

export function buildReport(r: SimulationResult, notices: string[] = []): Report {
  const c = r.metrics.counters;
  const answered = sum(c.answers);
  const plays = sum(c.audio);
  const downloads = c.audio.origin + c.audio.edge + c.audio.failed;
  const measured = r.gatewayCounters?.providerCalls;
  const calls: Record<ProviderCall, number> = measured
    ? { transcribe: measured.transcribe ?? 0, respond: measured.respond ?? 0, synthesize: measured.synthesize ?? 0 }
    : { transcribe: c.answers.provider, respond: c.answers.provider, synthesize: c.answers.provider };
  const callsWithoutCache = { transcribe: answered, respond: answered, synthesize: answered };
  const cost = (k: Record<ProviderCall, number>): number =>
    (Object.keys(COST_MODEL_USD) as ProviderCall[]).reduce((acc, call) => acc + k[call] * COST_MODEL_USD[call], 0);
  const cpu = r.gatewayProcess?.samples.map((s) => s.cpuPct) ?? [];
  const o = r.options;
  const trafficStartS = r.phases.trafficStartMs / 1000;
  const bucketS = r.metrics.bucketMs / 1000;
  return {
    version: 1,
    generatedAt: new Date().toISOString(),
    config: {
      bears: o.traffic.bears, durationS: o.traffic.durationMs / 1000, seed: o.traffic.seed, skew: o.traffic.skew,
      phrases: o.traffic.phrases, flashBudgetBytes: o.flashBudgetBytes, connectRatePerS: o.connectRatePerS,
      cdnEdge: o.cdnEdge, gateway: r.gatewayProcess ? 'child' : 'external', transport: o.tls ? 'tls' : 'plaintext',
      gateways: r.gatewayFleet?.gateways.length ?? 1, workers: r.gatewayFleet?.workers ?? 1,
      store: r.gatewayFleet?.store ?? 'external',
    },
    tlsCost: r.tlsCost,
    phases: { connectS: r.phases.connectMs / 1000, trafficS: r.phases.trafficMs / 1000, drainS: r.phases.drainMs / 1000 },
    requests: {
      utterances: c.utterances, offline: c.offline, sent: c.utterances - c.offline, answered, errors: c.errors,
      timeouts: c.timeouts, unfinished: r.unfinished, retries: c.retries, malformedFromGateway: c.malformedFromGateway,
      resent: c.resent, answeredAfterRetry: c.answeredAfterRetry, duplicateAnswers: c.duplicateAnswers,
    },
    layers: {
      flash: rate(c.audio.flash, plays),
      l1: rate(c.answers.l1, answered),
      l2: rate(c.answers.l2, answered),
      l3: rate(c.audio.origin + c.audio.edge, downloads),
      miss: rate(c.answers.provider, answered),
      other: rate(c.answers.other, answered),
    },
    audio: c.audio,
    warm: { manifests: c.warmManifests, clipsStored: c.warmClipsStored, clipsFailed: c.warmClipsFailed, bytes: c.warmBytes },
    latency: {
      answer: summarizeLatency(r.metrics.answerLatency),
      play: summarizeLatency(r.metrics.playLatency),
      connect: summarizeLatency(r.metrics.connectLatency),
      noCache: r.baselines && summarizeLatency(r.baselines.noCache.answerLatency),
      cachedIdle: r.baselines && summarizeLatency(r.baselines.cached.answerLatency),
      transportFloor: r.baselines && summarizeLatency(r.baselines.transportFloor),
      curves: {
        answer: percentileCurve(r.metrics.answerLatency),
        play: percentileCurve(r.metrics.playLatency),
        noCache: r.baselines ? percentileCurve(r.baselines.noCache.answerLatency) : [],
        transportFloor: r.baselines ? percentileCurve(r.baselines.transportFloor) : [],
      },
    },
    gateway: gatewaySection(r.gatewayProcess, cpu, r.gatewayFleet),
    failovers: failoverSection(r),
    connections: {
      connected: r.connected, connects: c.connects, failures: c.connectFailures, drops: c.drops,
      connectRatePerS: ratio(r.connected, r.phases.connectMs / 1000),
    },
    bytes: {
      mqttOut: c.mqttBytesOut, mqttIn: c.mqttBytesIn, origin: c.originBytes, edge: c.edgeBytes, warm: c.warmBytes,
      withoutFlash: r.playedBytes,
    },
    provider: {
      calls,
      callsWithoutCache,
      callsAvoided: sum(callsWithoutCache) - sum(calls),
      costUsd: cost(calls),
      costWithoutCacheUsd: cost(callsWithoutCache),
      savedUsd: cost(callsWithoutCache) - cost(calls),
      costModelUsd: COST_MODEL_USD,
      callsSource: measured ? 'gateway' : 'modelled',
    },
    gatewayCache: r.gatewayCounters && gatewayCacheRates(r.gatewayCounters),
    flashPolicies: {
      ...r.flashPolicies,
      rates: {
        firmware: ratio(r.flashPolicies.firmware, r.flashPolicies.plays),
        firmwareDemandOnly: ratio(r.flashPolicies.firmwareDemandOnly, r.flashPolicies.plays),
        belady: ratio(r.flashPolicies.belady, r.flashPolicies.plays),
        lru: ratio(r.flashPolicies.lru, r.flashPolicies.plays),
      },
    },
    timeline: {
      bucketS,
      trafficStartS,
      trafficEndS: trafficStartS + r.phases.trafficMs / 1000,
      buckets: r.metrics.timeline.map(timelineBucket),
      events: r.fleetEvents.map((e) => ({ t: trafficStartS + e.atMs / 1000, kind: e.kind, ...(e.kind === 'drop' ? { bears: e.bears.length } : {}) })),
    },
    notices,
  };
}

function gatewayCacheRates(g: GatewayCounters): Record<string, LayerRate> {
  // Only the cache layers (l1, l2, l3); the SDK also counts pseudo-layers such as 'compute'.
  const layers = new Set([...Object.keys(g.cacheHits), ...Object.keys(g.cacheMisses)].filter((l) => /^l\d$/.test(l)));
  return Object.fromEntries([...layers].map((layer) => {
    const hits = g.cacheHits[layer] ?? 0;
    return [layer, rate(hits, hits + (g.cacheMisses[layer] ?? 0))];
  }));
}

function gatewaySection(g: GatewayProcess | undefined, cpu: number[], fleet: GatewayFleet | undefined): Report['gateway'] {
  if (!g) return { restarts: 0, crashes: [], samples: [], processes: [] };
  return {
    pid: g.pid, restarts: g.restarts, crashes: fleet ? fleet.gateways.flatMap((x) => x.crashes) : g.crashes, peakRssMB: g.peakRssMB,
    meanCpuPct: cpu.length ? cpu.reduce((a, b) => a + b, 0) / cpu.length : 0,
    maxCpuPct: cpu.length ? Math.max(...cpu) : 0,
    samples: g.samples,
    processes: fleet?.processLoad() ?? [],
  };
}

function failoverSection(r: SimulationResult): Report['failovers'] {
  const start = r.metrics.startedAt;
  const s = (at: number): number => (at - start) / 1000;
  const window = (at: number): FailoverWindow => {
    const lost = r.metrics.outages.filter((o) => o.lostAt >= at && o.lostAt <= at + OUTAGE_WINDOW_S * 1000);
    const back = lost.map((o) => (o.backAt - o.lostAt) / 1000).sort((a, b) => a - b);
    return {
      t: s(at),
      bearsDisconnected: lost.length,
      movedGateway: lost.filter((o) => o.from !== o.to).length,
      backP50S: quantile(back, 0.5),
      backMaxS: back.at(-1) ?? 0,
      before: windowCounts(r.metrics.timeline, r.metrics.bucketMs, s(at) - WINDOW_S, s(at)),
      after: windowCounts(r.metrics.timeline, r.metrics.bucketMs, s(at), s(at) + WINDOW_S),
    };
  };
  const all = r.metrics.outages.map((o: Outage) => (o.backAt - o.lostAt) / 1000).sort((a, b) => a - b);
  return {
    gatewayKills: (r.gatewayFleet?.kills ?? []).map((k) => ({ ...window(k.at), gateway: k.gateway, pid: k.pid, role: k.role })),
    redisKills: (r.gatewayFleet?.redisKills ?? []).map((k) => ({ ...window(k.at), node: k.node })),
    outages: {
      count: all.length,
      movedGateway: r.metrics.outages.filter((o) => o.from !== o.to).length,
      p50S: quantile(all, 0.5), p95S: quantile(all, 0.95), maxS: all.at(-1) ?? 0,
    },
    bearsOfflineAtEnd: r.offlineAtEnd,
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
}

/** Counts of the timeline buckets that start within [fromS, toS). */
function windowCounts(timeline: Bucket[], bucketMs: number, fromS: number, toS: number): WindowCounts {
  const inside = timeline.filter((b) => b.t >= fromS - bucketMs / 1000 / 2 && b.t < toS);
  const answers = inside.reduce((n, b) => n + sum(b.answers), 0);
  const latency = inside.reduce((n, b) => n + b.latencySumMs, 0);
  const counted = inside.reduce((n, b) => n + b.latencyCount, 0);
  return {
    answers,
    errors: inside.reduce((n, b) => n + b.errors, 0),
    timeouts: inside.reduce((n, b) => n + b.timeouts, 0),
    meanLatencyMs: ratio(latency, counted),
  };
}

function timelineBucket(b: Bucket): TimelineBucket {
  const answers = sum(b.answers);
  return {
    t: b.t, requests: b.utterances - b.offline, answers, l1: b.answers.l1, l2: b.answers.l2, miss: b.answers.provider,
    flash: b.audio.flash, plays: sum(b.audio), mqttBytes: b.mqttBytesIn + b.mqttBytesOut, clipBytes: b.originBytes + b.edgeBytes,
    providerCallsAvoided: 3 * (answers - b.answers.provider), meanLatencyMs: ratio(b.latencySumMs, b.latencyCount),
  };
}

/** The accounting identities a report must satisfy; each failure is a sentence. */
export function checkReport(report: Report): string[] {
  const problems: string[] = [];
  const { requests: q, layers: l, audio } = report;
  const expect = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  expect(q.sent === q.answered + q.errors + q.timeouts + q.unfinished, `sent ${q.sent} != answered ${q.answered} + errors ${q.errors} + timeouts ${q.timeouts} + unfinished ${q.unfinished}`);
  expect(l.l1.hits + l.l2.hits + l.miss.hits + l.other.hits === q.answered, 'answers by layer (l1 + l2 + miss + other) do not add up to answered');
  const plays = sum(audio);
  expect(l.flash.of === plays && plays <= q.answered, `plays ${plays} must equal the flash layer's total and not exceed answers`);
  expect(audio.flash + audio.inline + l.l3.of === plays, 'flash + inline + downloads != plays');
  const t = report.timeline.buckets;
  expect(t.reduce((n, b) => n + b.answers, 0) === q.answered, 'timeline answers do not add up to the total');
  expect(t.reduce((n, b) => n + b.clipBytes, 0) === report.bytes.origin + report.bytes.edge, 'timeline clip bytes do not add up to the total');
  expect(report.provider.callsAvoided >= 0, 'negative provider calls avoided');
  return problems;
}

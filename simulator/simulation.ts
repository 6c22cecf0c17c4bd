/**
 * One simulation run: connect a fleet of virtual bears to a gateway (paced),
 * replay the traffic model's trace against it while the baselines run next to
 * it, drain, and collect everything report.ts needs.
 *
 * Phases: connect (bears come online at `connectRatePerS`, each gets its
 * welcome and warm manifest), traffic (`durationMs` of the trace: utterances,
 * drops, gateway restarts, warm pushes), drain (wait for answers in flight).
 */
import type { Histogram } from '../sdk/index.js';
import { measureTlsCost, type TlsCost } from './tls-cost.js';
import { measureProviderPath, startTransportFloor, type ProviderPathBaseline, type TransportFloor } from './baselines.js';
import { createClipFetcher } from './clip-fetcher.js';
import { combineGatewayCounters, type GatewayCounters } from './gateway-metrics.js';
import type { GatewayFleet } from './gateway-fleet.js';
import type { GatewayProcess } from './gateway-process.js';
import { beladyHits, lruHits } from './offline-policies.js';
import { BLOCK_BYTES } from '../protocol/index.js';
import { createFlashModel } from './flash-model.js';
import { createRng } from './rng.js';
import { createRunMetrics, type RunMetrics } from './run-metrics.js';
import { generateTrace, type FleetEvent, type TrafficConfig } from './traffic-model.js';
import { createVirtualBear, type VirtualBear } from './virtual-bear.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SimulationOptions {
  traffic: TrafficConfig;
  /** The gateways: child processes the simulator owns (restarts and kills possible), or just an MQTT URL. */
  gateway: { fleet: GatewayFleet } | { mqttUrl: string };
  secretFor: (deviceId: string) => string;
  /** Utterance audio for a phrasebook rank, and its format code. */
  audioFor: (rank: number) => Uint8Array;
  audioFormat: number;
  flashBudgetBytes: number;
  connectRatePerS: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  /** Model a CDN edge in front of the L3 origin (clip-fetcher.ts). */
  cdnEdge: boolean;
  /** Run the transport-floor and no-cache probes. */
  baselines: boolean;
  /** Drive the bears over MQTTS and HTTPS, trusting this CA (the child gateway's caFile), and measure what TLS costs. */
  tls?: { ca: Buffer };
  /** Called about once a second with progress. */
  onProgress?: (p: Progress) => void;
  /** Called for anything the operator should know (a skipped storm, a failed push). */
  onNotice?: (message: string) => void;
}

export interface Progress {
  phase: 'connect' | 'traffic' | 'drain';
  /** 0..1 of the current phase. */
  done: number;
  online: number;
  bears: number;
  utterances: number;
  answered: number;
}

export interface FlashPolicyComparison {
  plays: number;
  /** The firmware policy with warm pushes, as it ran. */
  firmware: number;
  /** The firmware policy replayed on the same plays without warm pushes. */
  firmwareDemandOnly: number;
  belady: number;
  lru: number;
}

export interface SimulationResult {
  options: SimulationOptions;
  metrics: RunMetrics;
  phases: { connectMs: number; trafficMs: number; drainMs: number; /** from the start of the run's timeline */ trafficStartMs: number };
  connected: number;
  /** Bears without a connection when the traffic had drained (still in an outage). */
  offlineAtEnd: number;
  /** Requests still unanswered when the run ended. */
  unfinished: number;
  flashPolicies: FlashPolicyComparison;
  /** Bytes of every clip played: what the bears would download with no flash cache. */
  playedBytes: number;
  baselines?: { transportFloor: Histogram } & ProviderPathBaseline;
  /** With --tls: connect time, gateway CPU and RSS over MQTTS against plaintext. */
  tlsCost?: TlsCost;
  /** The gateway's own counters during the fleet's run (connect to drain), when it is a child with a metrics endpoint. */
  gatewayCounters?: GatewayCounters;
  /** The first (or only) gateway process, when the simulator started the gateways. */
  gatewayProcess?: GatewayProcess;
  gatewayFleet?: GatewayFleet;
  fleetEvents: FleetEvent[];
}

const TICK_MS = 10;
/** Handshakes (connect to welcome) the ramp lets wait at once. */
const MAX_HANDSHAKES_IN_FLIGHT = 200;

export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const trace = generateTrace(o.traffic);
  const rng = createRng(o.traffic.seed ^ 0x5eed);
  const metrics = createRunMetrics(bucketMsFor(o.traffic.durationMs));
  const ca = o.tls?.ca;
  const fetcher = createClipFetcher({ metrics, edge: o.cdnEdge, concurrency: 32, timeoutMs: o.requestTimeoutMs, ca });
  const fleet = 'fleet' in o.gateway ? o.gateway.fleet : undefined;
  const gatewayProcess = fleet?.gateways[0];
  const gatewayUrls = (): string[] => (fleet ? fleet.urls(ca ? 'mqtts' : 'mqtt') : [(o.gateway as { mqttUrl: string }).mqttUrl]);
  const mqttUrl = (): string => gatewayUrls()[0]!;
  const progress = (phase: Progress['phase'], done: number): void =>
    o.onProgress?.({
      phase,
      done,
      online: bears.filter((b) => b.online).length,
      bears: bears.length,
      utterances: metrics.counters.utterances,
      answered: Object.values(metrics.counters.answers).reduce((a, b) => a + b, 0),
    });

  const bears: VirtualBear[] = trace.bears.map((_, i) => {
    const id = `simbear-${o.traffic.seed}-${i}`;
    return createVirtualBear({
      id,
      secret: o.secretFor(id),
      mqttUrl,
      // Spread over the gateways, as a load balancer or DNS would; each bear fails over on its own.
      gatewayUrls,
      firstGateway: i % gatewayUrls().length,
      flashBudget: o.flashBudgetBytes,
      fw: 'sim-1.0',
      audioFor: o.audioFor,
      audioFormat: o.audioFormat,
      metrics,
      fetcher,
      rng: rng.fork(),
      requestTimeoutMs: o.requestTimeoutMs,
      maxAttempts: o.maxAttempts,
      connectTimeoutMs: Math.max(10_000, o.requestTimeoutMs),
      ca,
    });
  });

  const countersAtStart = await fleet?.counters();

  // Connect phase, paced: at most `connectRatePerS` new handshakes a second and at most
  // MAX_HANDSHAKES_IN_FLIGHT waiting for their welcome, so a slow gateway slows the ramp down
  // instead of timing handshakes out and turning the ramp into a reconnect storm.
  const connectStart = Date.now();
  const connects: Promise<boolean>[] = [];
  const intervalMs = 1000 / o.connectRatePerS;
  let inFlight = 0;
  let nextAt = connectStart;
  let lastReport = 0;
  for (const bear of bears) {
    while (inFlight >= MAX_HANDSHAKES_IN_FLIGHT) await sleep(TICK_MS);
    inFlight++;
    connects.push(bear.connect().finally(() => inFlight--));
    nextAt = Math.max(nextAt + intervalMs, Date.now());
    if (nextAt - Date.now() >= TICK_MS) await sleep(nextAt - Date.now());
    if (Date.now() - lastReport > 1000) {
      lastReport = Date.now();
      progress('connect', connects.length / bears.length);
    }
  }
  await Promise.all(connects);
  // Bears whose first attempt failed retry on their own; give stragglers a bounded moment.
  const straggleUntil = Date.now() + 10_000;
  while (bears.some((b) => !b.online) && Date.now() < straggleUntil) await sleep(200);
  const connected = bears.filter((b) => b.online).length;
  const connectMs = Date.now() - connectStart;
  progress('connect', 1);

  // The transport floor runs alongside the traffic, under the same machine load.
  const floor: TransportFloor | undefined = o.baselines ? await startTransportFloor(5, o.audioFor(0).length + 16) : undefined;

  // Traffic phase: one scheduler loop over the merged, time-ordered trace.
  const due = trace.bears.flatMap((utterances, bear) => utterances.map((u) => ({ at: u.atMs, bear, rank: u.rank }))).sort((a, b) => a.at - b.at);
  const fleetQueue = [...trace.fleet];
  let killsOfRedis = 0;
  const background: Promise<unknown>[] = [];
  const trafficStart = Date.now();
  let next = 0;
  while (Date.now() - trafficStart < o.traffic.durationMs) {
    const now = Date.now() - trafficStart;
    while (next < due.length && due[next]!.at <= now) {
      const u = due[next++]!;
      bears[u.bear]!.say(u.rank);
    }
    while (fleetQueue.length > 0 && fleetQueue[0]!.atMs <= now) background.push(fleetEvent(fleetQueue.shift()!));
    if (Date.now() - lastReport > 1000) {
      lastReport = Date.now();
      progress('traffic', now / o.traffic.durationMs);
    }
    await sleep(TICK_MS);
  }
  const trafficMs = Date.now() - trafficStart;

  // Drain: answers in flight, retries, downloads.
  const drainStart = Date.now();
  const drainLimit = o.requestTimeoutMs * o.maxAttempts + 5_000;
  while (bears.some((b) => b.pending > 0) && Date.now() - drainStart < drainLimit) {
    progress('drain', (Date.now() - drainStart) / drainLimit);
    await sleep(250);
  }
  await Promise.allSettled(background);
  const offlineAtEnd = bears.filter((b) => !b.online).length;
  // Closing stops every retry timer, so what is still pending now can no longer time out:
  // each request ends counted exactly once (answered, error, timeout or unfinished).
  for (let i = 0; i < bears.length; i += 500) await Promise.all(bears.slice(i, i + 500).map((b) => b.close()));
  const unfinished = bears.reduce((n, b) => n + b.pending, 0);
  const drainMs = Date.now() - drainStart;
  progress('drain', 1);

  await floor?.stop();
  const countersAtEnd = await fleet?.counters();
  const gatewayCounters = countersAtStart && countersAtEnd ? combineGatewayCounters(countersAtEnd, countersAtStart, -1) : undefined;

  const providerPath = o.baselines
    ? await measureProviderPath({
        mqttUrl, secretFor: o.secretFor, rng: rng.fork(), requests: 20, ratePerS: 4, requestTimeoutMs: o.requestTimeoutMs, ca,
        fetcher: createClipFetcher({ metrics: createRunMetrics(1000), edge: o.cdnEdge, concurrency: 4, timeoutMs: o.requestTimeoutMs, ca }),
      })
    : undefined;
  const tlsCost = ca && gatewayProcess
    ? await measureTlsCost({
        pid: gatewayProcess.pid, mqttUrl: gatewayProcess.mqttUrl, mqttsUrl: gatewayProcess.mqttsUrl, ca, secretFor: o.secretFor,
        connections: Math.min(200, Math.max(20, o.traffic.bears)),
      })
    : undefined;

  return {
    options: o,
    metrics,
    phases: { connectMs, trafficMs, drainMs, trafficStartMs: trafficStart - metrics.startedAt },
    connected,
    offlineAtEnd,
    unfinished,
    flashPolicies: compareFlashPolicies(bears),
    playedBytes: bears.reduce((n, b) => n + b.plays.reduce((m, p) => m + p.size, 0), 0),
    baselines: floor && providerPath ? { transportFloor: floor.latency, ...providerPath } : undefined,
    gatewayCounters,
    gatewayProcess,
    gatewayFleet: fleet,
    tlsCost,
    fleetEvents: trace.fleet,
  };

  async function fleetEvent(e: FleetEvent): Promise<void> {
    if (e.kind === 'drop') for (const i of e.bears) bears[i]!.drop();
    else if (!fleet) o.onNotice?.(`skipped ${e.kind} at ${e.atMs} ms: the gateway is not a child of the simulator`);
    else if (e.kind === 'restart') await fleet.restart().catch((err: Error) => o.onNotice?.(`gateway restart failed: ${err.message}`));
    else if (e.kind === 'kill-gateway') {
      await fleet.kill(e.n).catch((err: Error) => o.onNotice?.(`gateway kill failed: ${err.message}`));
    } else if (e.kind === 'kill-redis-master') {
      const killed = await fleet.killRedisMaster(killsOfRedis++).catch((err: Error) => void o.onNotice?.(`Redis master kill failed: ${err.message}`));
      if (killed === undefined && fleet.store !== 'cluster') o.onNotice?.(`skipped kill-redis-master at ${e.atMs} ms: the gateways are not on a Redis Cluster (--redis-cluster)`);
    } else await fleet.pushWarm().catch((err: Error) => o.onNotice?.(`warm push failed: ${err.message}`));
  }
}

function compareFlashPolicies(bears: VirtualBear[]): FlashPolicyComparison {
  const out: FlashPolicyComparison = { plays: 0, firmware: 0, firmwareDemandOnly: 0, belady: 0, lru: 0 };
  for (const bear of bears) {
    const { budgetBlocks, hits } = bear.flash.stats();
    out.plays += bear.plays.length;
    out.firmware += hits;
    out.belady += beladyHits(bear.plays, budgetBlocks);
    out.lru += lruHits(bear.plays, budgetBlocks);
    const replay = createFlashModel(budgetBlocks * BLOCK_BYTES);
    for (const p of bear.plays) if (!replay.play(p.id)) replay.admitOnDemand(p.id, p.size);
    out.firmwareDemandOnly += replay.stats().hits;
  }
  return out;
}

/** Timeline resolution: one-second buckets, coarser for long runs so the report stays small. */
function bucketMsFor(durationMs: number): number {
  return Math.max(1000, Math.ceil(durationMs / 120 / 1000) * 1000);
}


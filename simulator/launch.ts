/**
 * A complete simulation as the CLI, the benchmark and the tests run it:
 * start the gateway child (unless given a URL), run, write report.json and
 * report.html, stop what was started.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveDeviceSecret } from '../gateway/device-secret.js';
import { PROMPTS, promptAudio } from '../gateway/providers/phrasebook.js';
import { UtteranceFormat } from '../protocol/index.js';
import { buildCompiled } from '../infra/production-launch.js';
import { startGatewayFleet, type GatewayFleet } from './gateway-fleet.js';
import { renderHtmlReport } from './html-report.js';
import { buildReport, type Report } from './report.js';
import { runSimulation, type Progress } from './simulation.js';
import { DEFAULT_TRAFFIC, type StormSpec } from './traffic-model.js';

export interface LaunchOptions {
  bears: number;
  durationMs: number;
  skew: number;
  seed: number;
  /** An already running gateway; without it the simulator starts one as a child process. */
  gatewayUrl?: string;
  /** Required with gatewayUrl: the fleet key the gateway was started with. */
  fleetKey?: string;
  redisUrl?: string;
  /** Gateway processes on separate ports sharing one Redis (or cluster); default 1. */
  gateways?: number;
  /** `--workers` of each gateway; default 1. */
  workers?: number;
  /** Run the gateways on a local Redis Cluster (3 masters + 3 replicas) the simulator starts. */
  redisCluster?: boolean;
  providerLatencyMs?: number;
  /** Node.js flags for the gateway child instead of package.json's start flags (memory tuning experiments). */
  gatewayNodeFlags?: string[];
  /** Run the gateway child from the TypeScript sources (tsx) instead of compiled as `npm start` does. */
  gatewayFromSource?: boolean;
  flashBudgetBytes: number;
  connectRatePerS: number;
  storms: StormSpec[];
  warmPushes: number[];
  /** Child behaviour (traffic-model.ts); defaults from DEFAULT_TRAFFIC. */
  meanSilenceMs?: number;
  meanThinkMs?: number;
  requestTimeoutMs: number;
  baselines: boolean;
  cdnEdge: boolean;
  /** Bears over MQTTS and HTTPS, trusting the child gateway's CA; the report adds what TLS costs. */
  tls?: boolean;
  /** Directory for report.json, report.html and gateway.log. */
  outDir: string;
  onProgress?: (p: Progress) => void;
  onNotice?: (message: string) => void;
  /** Called with the gateways the simulator started, once they listen and once the run is over (before they stop). */
  onGateways?: (gateways: GatewayFleet, phase: 'started' | 'finished') => Promise<void>;
}

export const DEFAULT_LAUNCH = {
  bears: 100,
  durationMs: 60_000,
  skew: DEFAULT_TRAFFIC.skew,
  seed: 42,
  // 512 KiB of an ESP32-S3's 8 MB flash set aside for clips.
  flashBudgetBytes: 512 * 1024,
  connectRatePerS: 400,
  storms: DEFAULT_TRAFFIC.storms,
  warmPushes: DEFAULT_TRAFFIC.warmPushes,
  requestTimeoutMs: 10_000,
  baselines: true,
  cdnEdge: true,
} satisfies Partial<LaunchOptions>;

/** A SIGKILLed gateway process (kill-gateway storm) is started again this much later. */
const REVIVE_AFTER_MS = 3000;

export interface LaunchResult {
  report: Report;
  jsonPath: string;
  htmlPath: string;
}

export async function launchSimulation(o: LaunchOptions): Promise<LaunchResult> {
  if (o.gatewayUrl && !o.fleetKey) throw new Error('--gateway-url needs --fleet-key (the key the gateway was started with)');
  if (o.gatewayUrl && o.tls) throw new Error('--tls drives the gateway the simulator starts (it trusts that gateway\'s CA); it cannot be combined with --gateway-url');
  mkdirSync(o.outDir, { recursive: true });
  const fleetKey = o.fleetKey ?? randomBytes(32).toString('hex');
  const notices: string[] = [];
  const notice = (m: string): void => {
    notices.push(m);
    o.onNotice?.(m);
  };
  let gateways: GatewayFleet | undefined;
  if (!o.gatewayUrl) {
    const form = o.gatewayFromSource ? 'source' : 'production';
    if (form === 'production') buildCompiled();
    gateways = await startGatewayFleet({
      gateways: o.gateways ?? 1, workers: o.workers ?? 1, redisCluster: o.redisCluster ?? false, form,
      fleetKey, redisUrl: o.redisUrl, providerLatencyMs: o.providerLatencyMs, nodeFlags: o.gatewayNodeFlags,
      logFile: (i) => join(o.outDir, i === 0 ? 'gateway.log' : `gateway-${i}.log`),
      reviveAfterMs: REVIVE_AFTER_MS,
    });
  }
  const audio = new Map<number, Uint8Array>();
  try {
    if (gateways) await o.onGateways?.(gateways, 'started');
    const result = await runSimulation({
      traffic: {
        ...DEFAULT_TRAFFIC, bears: o.bears, durationMs: o.durationMs, seed: o.seed, phrases: PROMPTS.length,
        skew: o.skew, storms: o.storms, warmPushes: o.warmPushes,
        meanSilenceMs: o.meanSilenceMs ?? DEFAULT_TRAFFIC.meanSilenceMs,
        meanThinkMs: o.meanThinkMs ?? DEFAULT_TRAFFIC.meanThinkMs,
      },
      gateway: gateways ? { fleet: gateways } : { mqttUrl: o.gatewayUrl! },
      secretFor: (id) => deriveDeviceSecret(fleetKey, id),
      audioFor: (rank) => {
        const cached = audio.get(rank);
        if (cached) return cached;
        const bytes = promptAudio(PROMPTS[rank % PROMPTS.length]!);
        audio.set(rank, bytes);
        return bytes;
      },
      audioFormat: UtteranceFormat.mulaw8k,
      flashBudgetBytes: o.flashBudgetBytes,
      connectRatePerS: o.connectRatePerS,
      requestTimeoutMs: o.requestTimeoutMs,
      maxAttempts: 3,
      cdnEdge: o.cdnEdge,
      baselines: o.baselines,
      // Each gateway's data dir has its own CA: the bears trust them all.
      tls: o.tls && gateways ? { ca: Buffer.concat(gateways.gateways.map((g) => readFileSync(g.caFile))) } : undefined,
      onProgress: o.onProgress,
      onNotice: notice,
    });
    // Loads and kills are read before the gateways go.
    const report = buildReport(result, notices);
    if (gateways) await o.onGateways?.(gateways, 'finished');
    await gateways?.stop();
    const jsonPath = join(o.outDir, 'report.json');
    const htmlPath = join(o.outDir, 'report.html');
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(htmlPath, renderHtmlReport(report));
    return { report, jsonPath, htmlPath };
  } finally {
    await gateways?.stop();
  }
}

/**
 * The gateways a simulation runs against, all child processes started
 * through the gateway's CLI (./gateway-process.ts): one `start` process by
 * default, on its own embedded Redis; or `gateways` of them on separate
 * ports — separate machines' worth — sharing one Redis, or a Redis Cluster
 * (3 masters + 3 replicas, infra/redis-cluster.ts), that the simulator starts
 * and stops, and the keys a fleet shares (fleet key, TEDDY_URL_KEY,
 * TEDDY_CACHE_KEYS). Each may run `workers` processes (`--workers`).
 *
 * Faults: `kill` SIGKILLs one serving process (rotating over every gateway's
 * processes); `killRedisMaster` SIGKILLs a cluster master (first the one
 * holding the fleet's slot). The fleet watches every process's load: CPU and
 * RSS from /proc, connected bears and requests handled from the gateways'
 * presence beats (`/admin/stats`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayBeat } from '../gateway/fleet-presence.js';
import { fleetKeys } from '../gateway/fleet-keys.js';
import { ADMIN_TOKEN_FILE } from '../gateway/index.js';
import { startRedisCluster, type RedisCluster } from '../infra/redis-cluster.js';
import { startRedisServer, type RedisServer } from '../infra/redis-server.js';
import { combineGatewayCounters, type GatewayCounters } from './gateway-metrics.js';
import { startGatewayProcess, type GatewayProcess, type ServingRole } from './gateway-process.js';

export interface GatewayFleetOptions {
  gateways: number;
  workers: number;
  fleetKey: string;
  /** Use this Redis for every gateway (else one is started when more than one gateway shares it). */
  redisUrl?: string;
  /** Start a local Redis Cluster for the gateways' L2 and fleet state. */
  redisCluster: boolean;
  providerLatencyMs?: number;
  /** How the gateway CLI runs (./gateway-process.ts). */
  form?: 'production' | 'source';
  nodeFlags?: string[];
  /** Gateway i logs to `logFile(i)`. */
  logFile(i: number): string;
  /** A SIGKILLed gateway (not a worker: its primary replaces those) starts again this much later. */
  reviveAfterMs: number;
}

/** One serving process as the report shows it. */
export interface ProcessLoad {
  gateway: number;
  pid: number;
  role: ServingRole;
  /** CPU, percent of one core, over the samples it was alive for. */
  meanCpuPct: number;
  maxCpuPct: number;
  peakRssMB: number;
  /** Most bears it held at once, and requests it handled, as its presence beats said. */
  maxBears: number;
  requests: number;
  killed: boolean;
}

export interface GatewayKill {
  /** ms since the epoch. */
  at: number;
  gateway: number;
  pid: number;
  role: ServingRole;
}

export interface RedisKill {
  /** ms since the epoch. */
  at: number;
  node: string;
}

export interface GatewayFleet {
  readonly gateways: readonly GatewayProcess[];
  /** Each gateway's MQTT (or MQTTS) URL: the bears' list. */
  urls(scheme?: 'mqtt' | 'mqtts'): string[];
  readonly store: 'embedded' | 'redis' | 'cluster';
  /** Worker processes per gateway (`--workers`). */
  readonly workers: number;
  /** Provider calls, answers and cache counters summed over every gateway. */
  counters(): Promise<GatewayCounters | undefined>;
  /** Warm push through the first gateway (the control channel carries it to the others). */
  pushWarm(): Promise<void>;
  /** A restart storm: every gateway stops (SIGTERM) and starts again, one after another. */
  restart(): Promise<void>;
  kill(n: number): Promise<GatewayKill>;
  /** Undefined when the fleet is not on a Redis Cluster. */
  killRedisMaster(n: number): Promise<RedisKill | undefined>;
  readonly kills: GatewayKill[];
  readonly redisKills: RedisKill[];
  /** Per serving process, so far. */
  processLoad(): ProcessLoad[];
  /** The Redis the gateways share (none when each runs its embedded one). */
  readonly redis: { url?: string; clusterNodes?: readonly string[] };
  /** `/admin/stats` (or one bear's) of the first gateway that answers. */
  stats(deviceId?: string): Promise<unknown>;
  stop(): Promise<void>;
}

const BEAT_POLL_MS = 2000;

export async function startGatewayFleet(o: GatewayFleetOptions): Promise<GatewayFleet> {
  const dirs: string[] = [];
  const shared = o.gateways > 1 || o.redisCluster;
  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  const gateways: GatewayProcess[] = [];
  const kills: GatewayKill[] = [];
  const redisKills: RedisKill[] = [];
  const beats = new Map<number, { gateway: number; maxBears: number; requests: number }>();
  let poller: NodeJS.Timeout | undefined;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      clearInterval(poller);
      for (const g of gateways) await g.stop();
      await redis?.stop();
      await cluster?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    })());

  try {
    if (o.redisCluster) cluster = await startRedisCluster();
    else if (shared && !o.redisUrl) redis = await startRedisServer();
    const redisUrl = o.redisUrl ?? redis?.url;
    // The keys every gateway of one fleet shares.
    const env: Record<string, string> = shared
      ? { TEDDY_URL_KEY: randomBytes(32).toString('base64url'), TEDDY_CACHE_KEYS: `sim:${randomBytes(32).toString('base64')}` }
      : {};
    for (let i = 0; i < o.gateways; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'teddy-sim-gateway-'));
      dirs.push(dataDir);
      gateways.push(await startGatewayProcess({
        dataDir, fleetKey: o.fleetKey, redisUrl, redisClusterNodes: cluster?.nodes, env,
        providerLatencyMs: o.providerLatencyMs, form: o.form, nodeFlags: o.nodeFlags, logFile: o.logFile(i),
        extraArgs: o.workers > 1 ? ['--workers', String(o.workers)] : [],
      }));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const adminToken = (i: number): string => readFileSync(join(dirs[i]!, ADMIN_TOKEN_FILE), 'utf8').trim();
  const stats = async (deviceId?: string): Promise<unknown> => {
    let last: unknown;
    for (const [i, g] of gateways.entries()) {
      try {
        const query = deviceId ? `?device=${encodeURIComponent(deviceId)}` : '';
        const res = await fetch(`${g.httpUrl}/admin/stats${query}`, { headers: { authorization: `Bearer ${adminToken(i)}` }, signal: AbortSignal.timeout(2000) });
        if (res.ok) return await res.json();
        last = new Error(`${g.httpUrl}: ${res.status}`);
      } catch (err) {
        last = err; // that gateway is down (killed, restarting): ask the next
      }
    }
    throw last;
  };
  // Beats from any live gateway name every process of the fleet.
  const poll = async (): Promise<void> => {
    let live: GatewayBeat[];
    try {
      ({ gateways: live } = (await stats()) as { gateways: GatewayBeat[] });
    } catch {
      return; // no gateway answered this time
    }
    for (const beat of live) {
      if (!beat.httpUrl) continue; // a gateway still starting
      const gateway = gateways.findIndex((x) => new URL(x.httpUrl).port === new URL(beat.httpUrl).port);
      const seen = beats.get(beat.pid) ?? { gateway, maxBears: 0, requests: 0 };
      seen.maxBears = Math.max(seen.maxBears, beat.bears);
      seen.requests = Math.max(seen.requests, beat.requests);
      beats.set(beat.pid, seen);
    }
  };
  poller = setInterval(() => void poll(), BEAT_POLL_MS);
  poller.unref();

  /** Every serving process of every gateway, in a stable order (gateway, then pid order). */
  const serving = (): { gateway: number; index: number }[] =>
    gateways.flatMap((g, gateway) => g.servingPids().map((_, index) => ({ gateway, index })));

  return {
    gateways,
    urls: (scheme = 'mqtt') => gateways.map((g) => (scheme === 'mqtts' ? g.mqttsUrl : g.mqttUrl)),
    store: cluster ? 'cluster' : shared || o.redisUrl ? 'redis' : 'embedded',
    workers: o.workers,
    async counters() {
      const all = await Promise.all(gateways.map((g) => g.counters()));
      if (all.some((c) => c === undefined)) return undefined;
      return (all as GatewayCounters[]).reduce((a, b) => combineGatewayCounters(a, b, 1));
    },
    pushWarm: () => gateways[0]!.pushWarm(),
    async restart() {
      for (const g of gateways) await g.restart();
    },
    async kill(n) {
      const all = serving();
      const target = all[n % all.length]!;
      const kill: GatewayKill = { at: Date.now(), gateway: target.gateway, pid: 0, role: 'gateway' };
      kills.push(kill);
      const { pid, role } = await gateways[target.gateway]!.kill(target.index, o.reviveAfterMs);
      return Object.assign(kill, { pid, role });
    },
    async killRedisMaster(n) {
      if (!cluster) return undefined;
      const at = Date.now();
      const node = await cluster.killMaster(n === 0 ? { key: fleetKeys('teddy:').devices } : n);
      const kill = { at, node };
      redisKills.push(kill);
      return kill;
    },
    kills,
    redisKills,
    redis: { url: o.redisUrl ?? redis?.url, clusterNodes: cluster?.nodes },
    stats,
    processLoad() {
      return gateways.flatMap((g, gateway) =>
        [...g.processes.values()].map((p) => {
          const cpu = p.samples.map((s) => s.cpuPct);
          const beat = beats.get(p.pid);
          return {
            gateway, pid: p.pid, role: p.role,
            meanCpuPct: cpu.length ? cpu.reduce((a, b) => a + b, 0) / cpu.length : 0,
            maxCpuPct: cpu.length ? Math.max(...cpu) : 0,
            peakRssMB: p.peakRssMB,
            maxBears: beat?.maxBears ?? 0,
            requests: beat?.requests ?? 0,
            killed: kills.some((k) => k.pid === p.pid),
          };
        }),
      );
    },
    stop,
  };
}

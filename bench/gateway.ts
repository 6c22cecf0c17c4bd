/**
 * npm run bench:gateway [-- --quick] — the gateway against the raw building
 * blocks, in one run, with the same clients and the same request mix:
 *   (a) gateway: a cached utterance round trip (auth, ACL, CBOR decode, three
 *       SDK cache lookups, URL signing, CBOR encode), as `npm start` runs it
 *       (compiled, package.json's start flags; infra/production-launch.ts);
 *   (b) bare Aedes echo (bench/aedes-echo.mjs, plain node): the broker alone;
 *   (c) Mosquitto + an echo client, when mosquitto is installed;
 *   (d) the gateway with `--workers 2` (two processes on shared ports, one
 *       fleet): throughput and server CPU per request against (a);
 *   (e) one gateway of a fleet of three on one Redis (the other two idle):
 *       what being part of a fleet adds to a request it handles — nothing is
 *       sent to the others per request, so its CPU per request should match (a);
 *   (d) and (e) as ratios to (a) (docs/scale-out.md);
 *   (f) the SDK's L2 hit on a 3+3 Redis Cluster against a bare ioredis Cluster
 *       `getBuffer` (./cluster-l2-hit.ts), the other scale-out figure of the run;
 * measured in alternating rounds with the server CPU each one uses per request;
 * then the same N connected idle bears against a fresh gateway child and a
 * fresh bare Aedes, and each one's RSS (Aedes also under the gateway's flags,
 * so the flags' share is visible). Prints tables and writes
 * bench/results/gateway.json with `ratios` and the `goals` they are held to.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { deriveDeviceSecret } from '../gateway/device-secret.js';
import { PROMPTS, promptAudio } from '../gateway/providers/phrasebook.js';
import { freePort } from '../infra/free-port.js';
import { startRedisServer } from '../infra/redis-server.js';
import { buildCompiled, compiledCliArgs, productionEnv, productionEnvVars, productionNodeFlags } from '../infra/production-launch.js';
import { encodeMessage, UtteranceFormat } from '../protocol/index.js';
import { procStatus } from '../simulator/gateway-process.js';
import { formatTable } from '../simulator/summary-table.js';
import { measureClusterL2Hit } from './cluster-l2-hit.js';
import { connectIdleBears } from './idle-bears.js';
import { importPublishedSdk } from './published-sdk.js';
import { startReadyChild } from './ready-child.js';
import { runRequestLoad, type LoadResult, type LoadTarget } from './request-load.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    seconds: { type: 'string' },
    idle: { type: 'string' },
    'gateway-node-flags': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: npm run bench:gateway -- [--quick] [--clients N] [--seconds S] [--idle N] [--gateway-node-flags "..."]
  --quick               small scale (used by npm run bench): 8 clients, 3 s per target, 2,000 idle bears
  --clients N           concurrent request clients (default 32)
  --seconds S           measured seconds per target (default 8)
  --idle N              connected idle bears for the RSS comparison (default 10000)
  --gateway-node-flags  V8 flags for the gateway instead of npm start's (experiments)
`);
  process.exit(0);
}
const positive = (v: string | undefined, fallback: number, name: string): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`bench:gateway: --${name} must be a positive integer\n`);
    process.exit(2);
  }
  return n;
};
const CLIENTS = positive(args.clients, args.quick ? 8 : 32, 'clients');
const DURATION_MS = positive(args.seconds, args.quick ? 3 : 8, 'seconds') * 1000;
const IDLE = positive(args.idle, args.quick ? 2000 : 10_000, 'idle');
const WARMUP_MS = args.quick ? 1000 : 2000;
const ROUNDS = 4;
const GATEWAY_FLAGS = args['gateway-node-flags'] === undefined ? productionNodeFlags() : args['gateway-node-flags'].split(/\s+/).filter(Boolean);
/** How the gateway is launched, as a command line: the start script's variables, node, its flags. */
const LAUNCH = [...Object.entries(productionEnvVars()).map(([k, v]) => `${k}=${v}`), 'node', ...GATEWAY_FLAGS].join(' ');
const note = (m: string): void => void process.stderr.write(`bench:gateway: ${m}\n`);

/** The goals each ratio is held to (issues 9 and 11): bench/index.ts prints them beside the figures. */
const GOALS = {
  gatewayVsAedesThroughput: { min: 0.9 },
  gatewayVsAedesCpuPerRequest: { max: 1.15 },
  idleRssVsAedes: { max: 1.1 },
  l2HitLatencyVsBareClusterGetBuffer: { max: 1.3 },
} as const;

// The request mix: eight phrasebook prompts as the bear's mu-law audio (3.2 kB each).
const PAYLOADS = PROMPTS.slice(0, 8).map((p, i) =>
  encodeMessage({ type: 'utterance', id: i + 1, audio: promptAudio(p), format: UtteranceFormat.mulaw8k }),
);
const fleetKey = randomBytes(32).toString('hex');
const bears = Array.from({ length: CLIENTS }, (_, i) => ({ id: `bench-${i}`, password: deriveDeviceSecret(fleetKey, `bench-${i}`) }));

const dataDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.push(dir);
  return dir;
};

/** A server under load, and how to stop it. */
interface Server {
  mqttUrl: string;
  httpUrl?: string;
  pids: number[];
  stop(): Promise<void>;
}

async function startGateway(workers = 1, redisUrl?: string): Promise<Server> {
  const gateway = await startReadyChild<{ mqttUrl: string; httpUrl: string; pid: number; workers?: number[] }>(
    process.execPath,
    compiledCliArgs(
      [
        'start', '--ready-json', '--mqtt-port', '0', '--http-port', '0', '--mqtts-port', '0', '--https-port', '0', '--data-dir', tempDir('teddy-bench-gw-'),
        '--fleet-key', fleetKey, '--provider-latency-ms', '0',
        // Closed-loop clients send as fast as answers come back: lift the per-bear rate limit.
        '--rate-limit', '1000000', '--rate-burst', '1000000', '--log-level', 'warn',
        ...(workers > 1 ? ['--workers', String(workers)] : []),
        ...(redisUrl ? ['--redis-url', redisUrl] : []),
      ],
      GATEWAY_FLAGS,
    ),
    60_000,
    productionEnv(),
  );
  // With workers, the primary (which hands connections over) and every worker are charged.
  const pids = [gateway.ready.pid, ...(gateway.ready.workers ?? [])];
  return { mqttUrl: gateway.ready.mqttUrl, httpUrl: gateway.ready.httpUrl, pids, stop: () => gateway.stop() };
}

async function startAedesEcho(nodeFlags: readonly string[] = []): Promise<Server> {
  // Under the gateway's flags, under its environment too.
  const env = nodeFlags.length > 0 ? productionEnv() : process.env;
  const echo = await startReadyChild<{ mqttUrl: string; pid: number }>(process.execPath, [...nodeFlags, 'bench/aedes-echo.mjs'], 60_000, env);
  return { mqttUrl: echo.ready.mqttUrl, pids: [echo.ready.pid], stop: () => echo.stop() };
}

async function startMosquittoEcho(): Promise<Server | undefined> {
  if (spawnSync('mosquitto', ['-h']).error) {
    note('mosquitto is not installed: (c) skipped');
    return undefined;
  }
  const port = await freePort();
  const conf = join(tempDir('teddy-bench-mosquitto-'), 'mosquitto.conf');
  // Same footing as the Node brokers: loopback, no persistence, Nagle off.
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nmax_queued_messages 10000\n`);
  const broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const brokerExit = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
  const stopBroker = async (): Promise<void> => {
    broker.kill('SIGTERM');
    await brokerExit;
  };
  try {
    await waitForPort(port);
    const mqttUrl = `mqtt://127.0.0.1:${port}`;
    const echo = await startReadyChild<{ pid: number }>(process.execPath, ['--import', 'tsx', 'bench/mqtt-echo-client.ts', mqttUrl]);
    return {
      mqttUrl,
      // The echo client is part of this target: Mosquitto alone cannot answer.
      pids: [broker.pid!, echo.ready.pid],
      async stop() {
        await echo.stop();
        await stopBroker();
      },
    };
  } catch (err) {
    await stopBroker();
    throw err;
  }
}

async function benchRequests(): Promise<Record<string, LoadResult>> {
  note(`requests: ${CLIENTS} clients per target, ${ROUNDS} alternating rounds, ${DURATION_MS / 1000} s measured per target`);
  const servers: Server[] = [];
  try {
    const gateway = await startGateway();
    servers.push(gateway);
    const twoWorkers = await startGateway(2);
    servers.push(twoWorkers);
    // A fleet of three gateway processes on one Redis; load goes to the first only.
    const redis = await startRedisServer();
    servers.push({ mqttUrl: '', pids: [], stop: () => redis.stop() });
    const fleet = [];
    for (let i = 0; i < 3; i++) fleet.push(await startGateway(1, redis.url));
    servers.push(...fleet);
    const inFleet = fleet[0]!;
    const aedes = await startAedesEcho();
    servers.push(aedes);
    const mosquitto = await startMosquittoEcho();
    if (mosquitto) servers.push(mosquitto);
    const targets: LoadTarget[] = [
      { name: 'gateway', mqttUrl: gateway.mqttUrl, clients: bears, expectType: 'answer', pids: gateway.pids },
      { name: 'gateway2Workers', mqttUrl: twoWorkers.mqttUrl, clients: bears, expectType: 'answer', pids: twoWorkers.pids },
      { name: 'gatewayInFleetOf3', mqttUrl: inFleet.mqttUrl, clients: bears, expectType: 'answer', pids: inFleet.pids },
      { name: 'aedesEcho', mqttUrl: aedes.mqttUrl, clients: bears, expectType: 'utterance', pids: aedes.pids },
    ];
    if (mosquitto) {
      targets.push({ name: 'mosquittoEcho', mqttUrl: mosquitto.mqttUrl, clients: bears.map(({ id }) => ({ id })), expectType: 'utterance', pids: mosquitto.pids });
    }
    return await runRequestLoad(targets, { payloads: PAYLOADS, warmupMs: WARMUP_MS, rounds: ROUNDS, roundMs: DURATION_MS / ROUNDS });
  } finally {
    // Gateways before the Redis they share.
    for (const server of servers.reverse()) await server.stop();
  }
}

interface IdleResult {
  server: string;
  bears: number;
  connectSeconds: number;
  baselineRssMB: number;
  rssMB: number;
  perBearKB: number;
}

/** IDLE bears connect to a fresh server (fleet credentials; the echo ignores them), idle, and the server's RSS is read. */
async function benchIdle(name: string, server: Server): Promise<IdleResult> {
  const pid = server.pids[0]!;
  try {
    note(`idle: ${IDLE} connected idle bears on ${name}`);
    await sleep(1000);
    const baselineRssMB = procStatus(pid)?.rssMB ?? 0;
    const started = performance.now();
    const idle = await connectIdleBears(server.mqttUrl, fleetKey, IDLE, 200, (n) => {
      if (n % 2500 === 0) note(`  ${n}/${IDLE} connected`);
    });
    const connectSeconds = (performance.now() - started) / 1000;
    await sleep(3000);
    if (server.httpUrl) {
      const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
      const connected = Number(/teddy_gateway_connected_bears (\d+)/.exec(metrics)?.[1]);
      if (connected !== IDLE) throw new Error(`gateway reports ${connected} connected bears, expected ${IDLE}`);
    }
    const rssMB = procStatus(pid)?.rssMB ?? 0;
    await Promise.all(idle.map((c) => c.endAsync(true)));
    return { server: name, bears: IDLE, connectSeconds, baselineRssMB, rssMB, perBearKB: ((rssMB - baselineRssMB) * 1024) / IDLE };
  } finally {
    await server.stop();
  }
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

try {
  note(`gateway as npm start runs it: ${LAUNCH} dist/gateway/cli.js (building dist/ first)`);
  buildCompiled();
  const requests = await benchRequests();
  const gateway = requests.gateway!;
  const twoWorkers = requests.gateway2Workers!;
  const inFleet = requests.gatewayInFleetOf3!;
  const aedes = requests.aedesEcho!;
  const mosquitto = requests.mosquittoEcho;
  const idleGateway = await benchIdle(`gateway (${LAUNCH})`, await startGateway());
  const idleAedes = await benchIdle('bare Aedes (plain node)', await startAedesEcho());
  const idleAedesFlags = await benchIdle(`bare Aedes (${LAUNCH})`, await startAedesEcho(GATEWAY_FLAGS));
  const idle = [idleGateway, idleAedes, idleAedesFlags];
  note('L2 hit on a 3+3 Redis Cluster: the SDK against a bare Cluster getBuffer');
  const clusterL2 = await measureClusterL2Hit(await importPublishedSdk(), { roundCount: 5, reads: 3000, dataDir: tempDir('teddy-bench-cluster-') });

  const row = (name: string, r: LoadResult | undefined): string[] =>
    r
      ? [
        name, r.requests.toString(), r.reqPerS.toFixed(0), r.latency.p50Ms.toFixed(3), r.latency.p99Ms.toFixed(3),
        (r.reqPerS / aedes.reqPerS).toFixed(2), r.serverCpuUsPerRequest.toFixed(1), (r.serverCpuUsPerRequest / aedes.serverCpuUsPerRequest).toFixed(2), String(r.wrong),
      ]
      : [name, '-', '-', '-', '-', '-', '-', '-', '-'];
  process.stdout.write(
    `\n${formatTable([
      ['target', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'x Aedes req/s', 'CPU µs/req', 'x Aedes CPU', 'wrong'],
      row('gateway (cached utterance)', gateway),
      row('gateway, --workers 2', twoWorkers),
      row('gateway, 1 of a fleet of 3', inFleet),
      row('bare Aedes echo', aedes),
      row('Mosquitto + echo client', mosquitto),
    ])}\n\n${formatTable([
      ['idle bears', 'bears', 'connect s', 'RSS before MB', 'RSS connected MB', 'KB per bear', 'x bare Aedes'],
      ...idle.map((r) => [
        r.server, String(r.bears), r.connectSeconds.toFixed(1), r.baselineRssMB.toFixed(1), r.rssMB.toFixed(1), r.perBearKB.toFixed(1),
        (r.rssMB / idleAedes.rssMB).toFixed(2),
      ]),
    ])}\n`,
  );
  process.stdout.write(
    `\n${formatTable([
      ['vs one gateway process (same run)', 'throughput', 'server CPU per request', 'p50 latency'],
      ['--workers 2', ...[twoWorkers.reqPerS / gateway.reqPerS, twoWorkers.serverCpuUsPerRequest / gateway.serverCpuUsPerRequest, twoWorkers.latency.p50Ms / gateway.latency.p50Ms].map((x) => x.toFixed(2))],
      ['1 of a fleet of 3 on one Redis', ...[inFleet.reqPerS / gateway.reqPerS, inFleet.serverCpuUsPerRequest / gateway.serverCpuUsPerRequest, inFleet.latency.p50Ms / gateway.latency.p50Ms].map((x) => x.toFixed(2))],
    ])}\n\n${formatTable([
      ['L2 hit on a 3+3 Redis Cluster, one at a time', 'mean µs', 'x bare'],
      ['SDK get (a second instance, its L1 empty)', clusterL2.oursUs.toFixed(1), (clusterL2.oursUs / clusterL2.bareGetBufferUs).toFixed(2)],
      ['bare ioredis Cluster getBuffer, same records', clusterL2.bareGetBufferUs.toFixed(1), '1.00'],
    ])}\n`,
  );
  if (gateway.wrong > 0) throw new Error(`${gateway.wrong} gateway responses were not answers`);
  for (const [name, r] of [['the 2-worker gateway', twoWorkers], ['the fleet gateway', inFleet]] as const) {
    if (r.wrong > 0) throw new Error(`${r.wrong} responses of ${name} were not answers`);
  }

  mkdirSync('bench/results', { recursive: true });
  const result = {
    generatedAt: new Date().toISOString(),
    config: {
      quick: args.quick, clients: CLIENTS, durationMs: DURATION_MS, rounds: ROUNDS, warmupMs: WARMUP_MS,
      requestBytes: PAYLOADS.map((p) => p.length), gatewayNodeFlags: GATEWAY_FLAGS, gatewayEnv: productionEnvVars(),
    },
    targets: { gateway, gateway2Workers: twoWorkers, gatewayInFleetOf3: inFleet, aedesEcho: aedes, mosquittoEcho: mosquitto ?? null },
    idle,
    clusterL2Hit: clusterL2,
    ratios: {
      gatewayVsAedesThroughput: gateway.reqPerS / aedes.reqPerS,
      gatewayVsAedesCpuPerRequest: gateway.serverCpuUsPerRequest / aedes.serverCpuUsPerRequest,
      gatewayVsAedesP50: gateway.latency.p50Ms / aedes.latency.p50Ms,
      gatewayVsAedesP99: gateway.latency.p99Ms / aedes.latency.p99Ms,
      gatewayVsMosquittoThroughput: mosquitto ? gateway.reqPerS / mosquitto.reqPerS : null,
      idleRssVsAedes: idleGateway.rssMB / idleAedes.rssMB,
      idleRssVsAedesSameFlags: idleGateway.rssMB / idleAedesFlags.rssMB,
      // --workers 2 against one process, same clients, same run (this machine has 2 cores, shared with the load generator).
      workers2VsWorkers1Throughput: twoWorkers.reqPerS / gateway.reqPerS,
      workers2VsWorkers1CpuPerRequest: twoWorkers.serverCpuUsPerRequest / gateway.serverCpuUsPerRequest,
      // One process of a fleet of three (the others idle on the same Redis) against a lone one: what the fleet adds per request.
      fleetOf3VsAloneCpuPerRequest: inFleet.serverCpuUsPerRequest / gateway.serverCpuUsPerRequest,
      fleetOf3VsAloneThroughput: inFleet.reqPerS / gateway.reqPerS,
      l2HitLatencyVsBareClusterGetBuffer: clusterL2.oursUs / clusterL2.bareGetBufferUs,
    },
    goals: GOALS,
  };
  writeFileSync('bench/results/gateway.json', `${JSON.stringify(result, null, 2)}\n`);
  note('wrote bench/results/gateway.json');
} finally {
  for (const dir of dataDirs) if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

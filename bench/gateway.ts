/**
 * npm run bench:gateway [-- --quick] — the gateway against the raw building
 * blocks, in one run, with the same clients and the same request mix:
 *   (a) gateway: a cached utterance round trip (auth, ACL, CBOR decode, three
 *       SDK cache lookups, URL signing, CBOR encode), gateway as a child process;
 *   (b) bare Aedes echo (bench/aedes-echo.ts): the broker alone;
 *   (c) Mosquitto + an echo client, when mosquitto is installed;
 * measured in alternating rounds with the server CPU each one uses per request;
 * then 10,000 connected idle bears against a fresh gateway child and its RSS,
 * once as `npm start` runs it (tsx) and once compiled with V8's young
 * generation capped. Prints tables and writes bench/results/gateway.json.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { deriveDeviceSecret } from '../gateway/device-secret.js';
import { PROMPTS, promptAudio } from '../gateway/providers/phrasebook.js';
import { encodeMessage, UtteranceFormat } from '../protocol/index.js';
import { procStatus } from '../simulator/gateway-process.js';
import { formatTable } from '../simulator/summary-table.js';
import { connectIdleBears } from './idle-bears.js';
import { startReadyChild } from './ready-child.js';
import { runRequestLoad, type LoadResult, type LoadTarget } from './request-load.js';
import { freePort } from '../infra/free-port.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    seconds: { type: 'string' },
    idle: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: npm run bench:gateway -- [--quick] [--clients N] [--seconds S] [--idle N]
  --quick      small scale (used by npm run bench): 8 clients, 3 s per target, 2,000 idle bears
  --clients N  concurrent request clients (default 32)
  --seconds S  measured seconds per target (default 8)
  --idle N     connected idle bears for the RSS run (default 10000)
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
const TSX = ['--import', 'tsx'];
const note = (m: string): void => void process.stderr.write(`bench:gateway: ${m}\n`);

// The request mix: eight phrasebook prompts as the bear's mu-law audio (3.2 kB each).
const PAYLOADS = PROMPTS.slice(0, 8).map((p, i) =>
  encodeMessage({ type: 'utterance', id: i + 1, audio: promptAudio(p), format: UtteranceFormat.mulaw8k }),
);
const fleetKey = randomBytes(32).toString('hex');
const bears = Array.from({ length: CLIENTS }, (_, i) => ({ id: `bench-${i}`, password: deriveDeviceSecret(fleetKey, `bench-${i}`) }));
const ROUNDS = 4;

const dataDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.push(dir);
  return dir;
};

/** How the gateway's CLI is launched: as `npm start` does (tsx), or compiled (`npm run build`) with node flags. */
type Launch = { form: 'tsx' } | { form: 'compiled'; nodeFlags: string[] };
const launchArgs = (l: Launch): string[] => (l.form === 'tsx' ? [...TSX, 'gateway/cli.ts'] : [...l.nodeFlags, 'dist/gateway/cli.js']);
const describeLaunch = (l: Launch): string => (l.form === 'tsx' ? 'tsx (npm start)' : `compiled ${l.nodeFlags.join(' ')}`.trim());

/** The gateway as an operator runs it: its CLI, in a child process. */
const startGateway = (launch: Launch = { form: 'tsx' }) =>
  startReadyChild<{ mqttUrl: string; httpUrl: string; pid: number }>(process.execPath, [
    ...launchArgs(launch), 'start', '--ready-json', '--mqtt-port', '0', '--http-port', '0', '--mqtts-port', '0', '--https-port', '0',
    '--data-dir', tempDir('teddy-bench-gw-'), '--fleet-key', fleetKey, '--provider-latency-ms', '0',
    // Closed-loop clients send as fast as answers come back: lift the per-bear rate limit.
    '--rate-limit', '1000000', '--log-level', 'warn',
  ]);

/** A server under load for the request benchmark, and how to stop it. */
interface Server {
  mqttUrl: string;
  pids: number[];
  stop(): Promise<void>;
}

async function startAedesEcho(): Promise<Server> {
  const echo = await startReadyChild<{ mqttUrl: string; pid: number }>(process.execPath, [...TSX, 'bench/aedes-echo.ts']);
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
    const echo = await startReadyChild<{ pid: number }>(process.execPath, [...TSX, 'bench/mqtt-echo-client.ts', mqttUrl]);
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
    servers.push({ mqttUrl: gateway.ready.mqttUrl, pids: [gateway.ready.pid], stop: () => gateway.stop() });
    const aedes = await startAedesEcho();
    servers.push(aedes);
    const mosquitto = await startMosquittoEcho();
    if (mosquitto) servers.push(mosquitto);
    const targets: LoadTarget[] = [
      { name: 'gateway', mqttUrl: gateway.ready.mqttUrl, clients: bears, expectType: 'answer', pids: [gateway.ready.pid] },
      { name: 'aedesEcho', mqttUrl: aedes.mqttUrl, clients: bears, expectType: 'utterance', pids: aedes.pids },
    ];
    if (mosquitto) {
      targets.push({ name: 'mosquittoEcho', mqttUrl: mosquitto.mqttUrl, clients: bears.map(({ id }) => ({ id })), expectType: 'utterance', pids: mosquitto.pids });
    }
    return await runRequestLoad(targets, { payloads: PAYLOADS, warmupMs: WARMUP_MS, rounds: ROUNDS, roundMs: DURATION_MS / ROUNDS });
  } finally {
    for (const server of servers) await server.stop();
  }
}

interface IdleResult {
  launch: string;
  bears: number;
  connectSeconds: number;
  baselineRssMB: number;
  rssMB: number;
  perBearKB: number;
}

async function benchIdle(launch: Launch): Promise<IdleResult> {
  note(`idle: ${IDLE} connected idle bears against a fresh gateway child, ${describeLaunch(launch)}`);
  const gateway = await startGateway(launch);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const baselineRssMB = procStatus(gateway.ready.pid)?.rssMB ?? 0;
    const started = performance.now();
    const idle = await connectIdleBears(gateway.ready.mqttUrl, fleetKey, IDLE, 200, (n) => {
      if (n % 2500 === 0) note(`  ${n}/${IDLE} connected`);
    });
    const connectSeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const metrics = await (await fetch(`${gateway.ready.httpUrl}/metrics`)).text();
    const connected = Number(/teddy_gateway_connected_bears (\d+)/.exec(metrics)?.[1]);
    if (connected !== IDLE) throw new Error(`gateway reports ${connected} connected bears, expected ${IDLE}`);
    const rssMB = procStatus(gateway.ready.pid)?.rssMB ?? 0;
    await Promise.all(idle.map((c) => c.endAsync(true)));
    return { launch: describeLaunch(launch), bears: IDLE, connectSeconds, baselineRssMB, rssMB, perBearKB: ((rssMB - baselineRssMB) * 1024) / IDLE };
  } finally {
    await gateway.stop();
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
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `npm run build` (tsc into dist/); false, with a note, if it fails. */
function buildCompiled(): boolean {
  note('building dist/ (npm run build) for the compiled idle run');
  const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (build.status === 0) return true;
  note(`build failed, compiled idle run skipped:\n${build.stdout}${build.stderr}`);
  return false;
}

function rssAt10k(r: IdleResult): number {
  return r.baselineRssMB + (r.perBearKB * 10_000) / 1024;
}

try {
  const requests = await benchRequests();
  const gateway = requests.gateway!;
  const aedes = requests.aedesEcho!;
  const mosquitto = requests.mosquittoEcho;
  // As `npm start` runs it, and in production form: compiled (tsx's loader alone is ~30 MB) and with
  // V8's young generation capped (under a connect storm it grows to 3 x 16 MB semi-spaces and keeps
  // the pages) — the two knobs that matter for many idle connections (docs/gateway.md).
  const idle = [await benchIdle({ form: 'tsx' })];
  if (buildCompiled()) idle.push(await benchIdle({ form: 'compiled', nodeFlags: ['--max-semi-space-size=1'] }));

  const row = (name: string, r: LoadResult | undefined): string[] =>
    r
      ? [
        name, r.requests.toString(), r.reqPerS.toFixed(0), r.latency.p50Ms.toFixed(3), r.latency.p99Ms.toFixed(3),
        (r.reqPerS / aedes.reqPerS).toFixed(2), r.serverCpuUsPerRequest.toFixed(0), String(r.wrong),
      ]
      : [name, '-', '-', '-', '-', '-', '-', '-'];
  process.stdout.write(
    `\n${formatTable([
      ['target', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'x bare Aedes', 'server CPU µs/req', 'wrong'],
      row('gateway (cached utterance)', gateway),
      row('bare Aedes echo', aedes),
      row('Mosquitto + echo client', mosquitto),
    ])}\n\n${formatTable([
      ['idle bears (gateway child)', 'bears', 'connect s', 'RSS before MB', 'RSS connected MB', 'KB per bear'],
      ...idle.map((r) => [
        r.launch, String(r.bears), r.connectSeconds.toFixed(1), r.baselineRssMB.toFixed(1), r.rssMB.toFixed(1), r.perBearKB.toFixed(1),
      ]),
    ])}\n`,
  );
  if (gateway.wrong > 0) throw new Error(`${gateway.wrong} gateway responses were not answers`);

  mkdirSync('bench/results', { recursive: true });
  const result = {
    generatedAt: new Date().toISOString(),
    config: { quick: args.quick, clients: CLIENTS, durationMs: DURATION_MS, rounds: ROUNDS, warmupMs: WARMUP_MS, requestBytes: PAYLOADS.map((p) => p.length) },
    targets: { gateway, aedesEcho: aedes, mosquittoEcho: mosquitto ?? null },
    idle,
    ratios: {
      gatewayVsAedesThroughput: gateway.reqPerS / aedes.reqPerS,
      gatewayVsAedesP50: gateway.latency.p50Ms / aedes.latency.p50Ms,
      gatewayVsAedesP99: gateway.latency.p99Ms / aedes.latency.p99Ms,
      gatewayVsMosquittoThroughput: mosquitto ? gateway.reqPerS / mosquitto.reqPerS : null,
      gatewayVsAedesCpuPerRequest: gateway.serverCpuUsPerRequest / aedes.serverCpuUsPerRequest,
      // Gateway RSS with 10,000 idle bears (extrapolated when fewer ran), as a share of the 256 MB goal (< 1 meets it).
      idleRssAt10kVs256MB: rssAt10k(idle[0]!) / 256,
      idleRssAt10kVs256MBCompiled: idle[1] ? rssAt10k(idle[1]) / 256 : null,
    },
  };
  writeFileSync('bench/results/gateway.json', `${JSON.stringify(result, null, 2)}\n`);
  note('wrote bench/results/gateway.json');
} finally {
  for (const dir of dataDirs) if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

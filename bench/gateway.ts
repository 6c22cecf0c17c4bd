/**
 * npm run bench:gateway [-- --quick] — the gateway against the raw building
 * blocks, in one run, with the same clients and the same request mix:
 *   (a) gateway: a cached utterance round trip (auth, ACL, CBOR decode, three
 *       SDK cache lookups, URL signing, CBOR encode), gateway as a child process;
 *   (b) bare Aedes echo (bench/aedes-echo.ts): the broker alone;
 *   (c) Mosquitto + an echo client, when mosquitto is installed;
 * then 10,000 connected idle bears against a fresh gateway child and its RSS.
 * Prints a table and writes bench/results/gateway.json.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { deriveDeviceSecret } from '../gateway/device-secret.js';
import { PROMPTS, promptAudio } from '../gateway/providers/phrasebook.js';
import { encodeMessage, UtteranceFormat } from '../sdk/protocol/index.js';
import { procStatus, startGatewayProcess } from '../simulator/gateway-process.js';
import { formatTable } from '../simulator/summary-table.js';
import { connectIdleBears } from './idle-bears.js';
import { startReadyChild } from './ready-child.js';
import { runRequestLoad, type LoadResult } from './request-load.js';

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
const load = (mqttUrl: string, expectType: string, clients: { id: string; password?: string }[] = bears): Promise<LoadResult> =>
  runRequestLoad({ mqttUrl, clients, payloads: PAYLOADS, warmupMs: WARMUP_MS, durationMs: DURATION_MS, expectType });

const dataDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.push(dir);
  return dir;
};
const gatewayArgs = ['--rate-limit', '1000000', '--log-level', 'warn'];

async function benchGateway(): Promise<LoadResult> {
  note(`(a) gateway: ${CLIENTS} clients, cached utterance round trips for ${DURATION_MS / 1000} s`);
  const gateway = await startGatewayProcess({ dataDir: tempDir('teddy-bench-gw-'), fleetKey, providerLatencyMs: 0, extraArgs: gatewayArgs });
  try {
    return await load(gateway.mqttUrl, 'answer');
  } finally {
    await gateway.stop();
  }
}

async function benchAedesEcho(): Promise<LoadResult> {
  note('(b) bare Aedes echo');
  const echo = await startReadyChild<{ mqttUrl: string }>(process.execPath, [...TSX, 'bench/aedes-echo.ts']);
  try {
    return await load(echo.ready.mqttUrl, 'utterance');
  } finally {
    await echo.stop();
  }
}

async function benchMosquittoEcho(): Promise<LoadResult | undefined> {
  if (spawnSync('mosquitto', ['-h']).error) {
    note('(c) mosquitto not installed: skipped');
    return undefined;
  }
  note('(c) Mosquitto + echo client');
  const port = await freePort();
  const conf = join(tempDir('teddy-bench-mosquitto-'), 'mosquitto.conf');
  // Same footing as the Node brokers: loopback, no persistence, Nagle off.
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nmax_queued_messages 10000\n`);
  const broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const brokerExit = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
  try {
    await waitForPort(port);
    const mosquittoUrl = `mqtt://127.0.0.1:${port}`;
    const echo = await startReadyChild(process.execPath, [...TSX, 'bench/mqtt-echo-client.ts', mosquittoUrl]);
    try {
      return await load(mosquittoUrl, 'utterance', bears.map(({ id }) => ({ id })));
    } finally {
      await echo.stop();
    }
  } finally {
    broker.kill('SIGTERM');
    await brokerExit;
  }
}

async function benchIdle(): Promise<{ bears: number; baselineRssMB: number; rssMB: number; perBearKB: number; connectSeconds: number }> {
  note(`idle: ${IDLE} connected idle bears against a fresh gateway child`);
  const gateway = await startGatewayProcess({ dataDir: tempDir('teddy-bench-idle-'), fleetKey, providerLatencyMs: 0, extraArgs: gatewayArgs });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const baselineRssMB = procStatus(gateway.pid)?.rssMB ?? 0;
    const started = performance.now();
    const idle = await connectIdleBears(gateway.mqttUrl, fleetKey, IDLE, 200, (n) => note(`  ${n}/${IDLE} connected`));
    const connectSeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const connected = Number(/teddy_gateway_connected_bears (\d+)/.exec(await (await fetch(`${gateway.httpUrl}/metrics`)).text())?.[1]);
    if (connected !== IDLE) throw new Error(`gateway reports ${connected} connected bears, expected ${IDLE}`);
    const rssMB = procStatus(gateway.pid)?.rssMB ?? 0;
    await Promise.all(idle.map((c) => c.endAsync(true)));
    return { bears: IDLE, baselineRssMB, rssMB, perBearKB: ((rssMB - baselineRssMB) * 1024) / IDLE, connectSeconds };
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

try {
  const gateway = await benchGateway();
  const aedes = await benchAedesEcho();
  const mosquitto = await benchMosquittoEcho();
  const idle = await benchIdle();

  const row = (name: string, r: LoadResult | undefined): string[] =>
    r
      ? [name, r.requests.toString(), r.reqPerS.toFixed(0), r.latency.p50Ms.toFixed(3), r.latency.p99Ms.toFixed(3), (r.reqPerS / aedes.reqPerS).toFixed(2), String(r.wrong)]
      : [name, '-', '-', '-', '-', '-', '-'];
  process.stdout.write(
    `\n${formatTable([
      ['target', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'x bare Aedes', 'wrong'],
      row('gateway (cached utterance)', gateway),
      row('bare Aedes echo', aedes),
      row('Mosquitto + echo client', mosquitto),
    ])}\n\n${formatTable([
      ['idle bears', 'value'],
      ['connected', String(idle.bears)],
      ['connect time (s)', idle.connectSeconds.toFixed(1)],
      ['gateway RSS before (MB)', idle.baselineRssMB.toFixed(1)],
      ['gateway RSS connected (MB)', idle.rssMB.toFixed(1)],
      ['per bear (KB)', idle.perBearKB.toFixed(1)],
    ])}\n`,
  );
  if (gateway.wrong > 0) throw new Error(`${gateway.wrong} gateway responses were not answers`);

  mkdirSync('bench/results', { recursive: true });
  const result = {
    generatedAt: new Date().toISOString(),
    config: { quick: args.quick, clients: CLIENTS, durationMs: DURATION_MS, warmupMs: WARMUP_MS, requestBytes: PAYLOADS.map((p) => p.length) },
    targets: { gateway, aedesEcho: aedes, mosquittoEcho: mosquitto ?? null },
    idle,
    ratios: {
      gatewayVsAedesThroughput: gateway.reqPerS / aedes.reqPerS,
      gatewayVsAedesP50: gateway.latency.p50Ms / aedes.latency.p50Ms,
      gatewayVsAedesP99: gateway.latency.p99Ms / aedes.latency.p99Ms,
      gatewayVsMosquittoThroughput: mosquitto ? gateway.reqPerS / mosquitto.reqPerS : null,
      // Gateway RSS extrapolated to 10,000 idle bears, as a share of the 256 MB goal (< 1 meets it).
      idleRssAt10kVs256MB: (idle.baselineRssMB + (idle.perBearKB * 10_000) / 1024) / 256,
    },
  };
  writeFileSync('bench/results/gateway.json', `${JSON.stringify(result, null, 2)}\n`);
  note('wrote bench/results/gateway.json');
} finally {
  for (const dir of dataDirs) if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compiledCliArgs } from '../infra/production-launch.js';
import { procStatus } from '../simulator/gateway-process.js';
import { connectIdleBears } from './idle-bears.js';
import { startReadyChild } from './ready-child.js';
const which = process.argv[2] ?? 'gateway';
const snapDir = mkdtempSync(join(tmpdir(), 'snap-'));
const fleetKey = randomBytes(32).toString('hex');
const args = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`];
const srv = which === 'gateway'
  ? await startReadyChild<{ mqttUrl: string; pid: number }>(process.execPath, compiledCliArgs(['start', '--ready-json', '--mqtt-port', '0', '--http-port', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'snapgw-')), '--fleet-key', fleetKey, '--log-level', 'warn'], args))
  : await startReadyChild<{ mqttUrl: string; pid: number }>(process.execPath, [...args, 'bench/aedes-echo.mjs']);
const bears = await connectIdleBears(srv.ready.mqttUrl, fleetKey, 5000, 200, () => {});
await sleep(3000);
console.log('rss', procStatus(srv.ready.pid)?.rssMB);
process.kill(srv.ready.pid, 'SIGUSR2');
for (let i = 0; i < 60 && !readdirSync(snapDir).some((f) => f.endsWith('.heapsnapshot')); i++) await sleep(1000);
await sleep(5000);
console.log(join(snapDir, readdirSync(snapDir)[0]!));
await Promise.all(bears.map((c) => c.endAsync(true)));
await srv.stop();

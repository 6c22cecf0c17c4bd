/**
 * npm run profile:gateway [-- --seconds S --clients N --top K] — where a
 * cached answer's CPU goes: the compiled gateway (as `npm start` runs it)
 * under `node --cpu-prof`, driven by the benchmark's closed-loop clients
 * with the same cached utterances, then the profile's self time per
 * function (and per file) printed, heaviest first. The .cpuprofile is kept
 * in bench/results/ for Chrome DevTools / speedscope.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { deriveDeviceSecret } from '../gateway/device-secret.js';
import { PROMPTS, promptAudio } from '../gateway/providers/phrasebook.js';
import { buildCompiled, COMPILED_CLI, productionEnv, productionNodeFlags } from '../infra/production-launch.js';
import { encodeMessage, UtteranceFormat } from '../protocol/index.js';
import { formatTable } from '../simulator/summary-table.js';
import { startReadyChild } from './ready-child.js';
import { runRequestLoad } from './request-load.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    clients: { type: 'string', default: '32' },
    top: { type: 'string', default: '30' },
    'node-flags': { type: 'string' }, // default: npm start's
  },
});
const seconds = Number(args.seconds);
const clients = Number(args.clients);
const top = Number(args.top);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

buildCompiled();

const profDir = mkdtempSync(join(tmpdir(), 'teddy-prof-'));
const dataDir = mkdtempSync(join(tmpdir(), 'teddy-prof-gw-'));
const fleetKey = randomBytes(32).toString('hex');
const gateway = await startReadyChild<{ mqttUrl: string; pid: number }>(process.execPath, [
  '--cpu-prof', '--cpu-prof-dir', profDir, ...(args['node-flags']?.split(' ').filter(Boolean) ?? productionNodeFlags()), COMPILED_CLI, 'start', '--ready-json',
  '--mqtt-port', '0', '--http-port', '0', '--mqtts-port', '0', '--https-port', '0', '--data-dir', dataDir, '--fleet-key', fleetKey, '--provider-latency-ms', '0',
  '--rate-limit', '1000000', '--rate-burst', '1000000', '--log-level', 'warn',
], 60_000, productionEnv());
try {
  const payloads = PROMPTS.slice(0, 8).map((p, i) => encodeMessage({ type: 'utterance', id: i + 1, audio: promptAudio(p), format: UtteranceFormat.mulaw8k }));
  const bears = Array.from({ length: clients }, (_, i) => ({ id: `prof-${i}`, password: deriveDeviceSecret(fleetKey, `prof-${i}`) }));
  const result = await runRequestLoad(
    [{ name: 'gateway', mqttUrl: gateway.ready.mqttUrl, clients: bears, expectType: 'answer', pids: [gateway.ready.pid] }],
    { payloads, warmupMs: 1000, rounds: 1, roundMs: seconds * 1000 },
  );
  const r = result.gateway!;
  process.stdout.write(`${r.requests} requests, ${r.reqPerS.toFixed(0)} req/s, server CPU ${r.serverCpuUsPerRequest.toFixed(1)} µs/request\n`);
} finally {
  await gateway.stop();
}

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no .cpuprofile written');
const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile;
mkdirSync('bench/results', { recursive: true });
renameSync(join(profDir, file), 'bench/results/gateway.cpuprofile');
rmSync(profDir, { recursive: true, force: true });
rmSync(dataDir, { recursive: true, force: true });

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const cwd = process.cwd();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  const where = node.callFrame.url ? relative(cwd, node.callFrame.url.replace(/^file:\/\//, '')) : '(native)';
  const fn = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  const area = where.startsWith('node_modules/') ? where.split('/').slice(0, where.startsWith('node_modules/@') ? 3 : 2).join('/') : where;
  byFile.set(area, (byFile.get(area) ?? 0) + us);
}
const rows = (m: Map<string, number>) =>
  [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, (us / 1000).toFixed(0), `${((100 * us) / total).toFixed(1)}%`]);
process.stdout.write(`\n${formatTable([['function (self time)', 'ms', 'share'], ...rows(byFunction)])}\n`);
process.stdout.write(`\n${formatTable([['file or package (self time)', 'ms', 'share'], ...rows(byFile)])}\n`);
process.stdout.write('\nprofile: bench/results/gateway.cpuprofile\n');

/**
 * `npm run bench:simulator`: the simulator at a fixed small scale (200 bears,
 * 20 s, seed 42, default workload) against a gateway child, compared with the
 * raw building blocks measured in the same run: the bare-broker transport
 * floor, the provider path with no cache against the cached path on the same
 * idle gateway, and Belady/LRU on the same flash traces.
 * Prints the summary and writes bench/results/simulator.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LAUNCH, launchSimulation } from '../simulator/launch.js';
import { checkReport, type Report } from '../simulator/report.js';
import { formatTable, summaryTable } from '../simulator/summary-table.js';

const BEARS = 200;
const DURATION_MS = 20_000;

const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined || b === 0 ? null : a / b);

/** The ratios bench/index.ts puts in the summary: each says how much a cache layer buys over its building block. */
function simulatorRatios(r: Report): Record<string, number | null> {
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
  return {
    'answer p50 / transport floor p50': ratio(r.latency.answer.p50Ms, r.latency.transportFloor?.p50Ms),
    'no-cache p50 / cached p50, idle gateway (speed-up)': ratio(r.latency.noCache?.p50Ms, r.latency.cachedIdle?.p50Ms),
    'provider calls made / without cache': ratio(sum(r.provider.calls), sum(r.provider.callsWithoutCache)),
    'L1 hit rate': r.layers.l1.rate,
    'bear flash hit rate': r.layers.flash.rate,
    'flash hits: firmware / Belady': ratio(r.flashPolicies.firmware, r.flashPolicies.belady),
    'flash hits: firmware demand-only / LRU': ratio(r.flashPolicies.firmwareDemandOnly, r.flashPolicies.lru),
    'clip bytes for plays / without flash': ratio(r.bytes.origin + r.bytes.edge - r.bytes.warm, r.bytes.withoutFlash),
  };
}

const outDir = join('reports', 'bench-simulator');
const { report, htmlPath } = await launchSimulation({ ...DEFAULT_LAUNCH, bears: BEARS, durationMs: DURATION_MS, seed: 42, outDir });
const ratios = simulatorRatios(report);
const problems = checkReport(report);
process.stdout.write(`${summaryTable(report)}\n\n`);
process.stdout.write(`${formatTable([['ratio', 'value'], ...Object.entries(ratios).map(([k, v]) => [k, v === null ? '-' : v.toFixed(3)])])}\n\nHTML report: ${htmlPath}\n`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/simulator.json', `${JSON.stringify({
  name: 'simulator',
  generatedAt: new Date().toISOString(),
  config: report.config,
  ratios,
  latency: report.latency,
  layers: report.layers,
  gateway: { peakRssMB: report.gateway.peakRssMB, meanCpuPct: report.gateway.meanCpuPct, maxCpuPct: report.gateway.maxCpuPct },
  problems,
}, null, 2)}\n`);
for (const p of problems) process.stderr.write(`report does not add up: ${p}\n`);
process.exit(problems.length ? 1 : 0);

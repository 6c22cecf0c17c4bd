/**
 * `npm run bench`: every benchmark at a fixed small scale, one after the other
 * (the machine has 2 cores; running them together would measure contention),
 * each as its own child process, then one summary table of the ratios each
 * wrote to bench/results/<name>.json, saved as bench/results/summary.json.
 *
 * Convention for a result file: a top-level `ratios` object of name -> number
 * (or null when not measurable). Files without one are listed as such.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../simulator/summary-table.js';

const RESULTS = 'bench/results';
const BENCHES: { name: string; script: string; args: string[] }[] = [
  { name: 'sdk', script: 'bench/sdk.ts', args: [] },
  { name: 'gateway', script: 'bench/gateway.ts', args: ['--quick'] },
  { name: 'simulator', script: 'bench/simulator.ts', args: [] },
  { name: 'flash', script: 'bench/flash-policy.ts', args: [] },
];

const outcomes: Record<string, string> = {};
for (const bench of BENCHES) {
  if (!existsSync(bench.script)) {
    outcomes[bench.name] = 'missing';
    process.stderr.write(`bench: ${bench.script} does not exist yet, skipped\n`);
    continue;
  }
  process.stderr.write(`\n=== bench:${bench.name} ===\n`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', bench.script, ...bench.args], { stdio: 'inherit' });
  outcomes[bench.name] = run.status === 0 ? `ok in ${((Date.now() - started) / 1000).toFixed(0)} s` : `failed (exit ${run.status ?? run.signal})`;
}

const rows: string[][] = [['bench: ratio', 'value']];
const summary: Record<string, { outcome: string; ratios?: Record<string, number | null> }> = {};
for (const name of BENCHES.map((b) => b.name)) summary[name] = { outcome: outcomes[name]! };
for (const file of readdirSync(RESULTS).filter((f) => f.endsWith('.json') && f !== 'summary.json').sort()) {
  const name = file.replace(/\.json$/, '');
  let ratios: Record<string, number | null> | undefined;
  try {
    ratios = (JSON.parse(readFileSync(join(RESULTS, file), 'utf8')) as { ratios?: Record<string, number | null> }).ratios;
  } catch (err) {
    process.stderr.write(`bench: ${file} is not valid JSON: ${(err as Error).message}\n`);
  }
  summary[name] = { outcome: summary[name]?.outcome ?? 'not run now (older result)', ratios };
  if (!ratios) rows.push([`${name}: (no ratios in its result file)`, '-']);
  else for (const [k, v] of Object.entries(ratios)) rows.push([`${name}: ${k}`, typeof v === 'number' ? v.toFixed(3) : '-']);
}
process.stdout.write(`\n${formatTable([['bench', 'outcome'], ...Object.entries(outcomes)])}\n\n${formatTable(rows)}\n`);
writeFileSync(join(RESULTS, 'summary.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), benches: summary }, null, 2)}\n`);
process.exit(Object.values(outcomes).some((o) => o.startsWith('failed')) ? 1 : 0);

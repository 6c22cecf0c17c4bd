/**
 * `npm run bench`: every benchmark at a fixed small scale, one after the other
 * (the machine has 2 cores; running them together would measure contention),
 * each as its own child process, then one table of every ratio each wrote
 * to bench/results/<name>.json, with its goal beside it and whether the run
 * met it, saved as bench/results/summary.json.
 *
 * Convention for a result file: a top-level `ratios` object of name -> number
 * (or null when not measurable), and `goals: { ratioName: { min?, max? } }`
 * for the ratios that have one (./goals.ts). Files without ratios are listed
 * as such; a ratio without a goal is shown without a verdict.
 * `npm run bench -- --summary` prints the table from the files already there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../simulator/summary-table.js';
import { goalText, verdict, type Goal, type Verdict } from './goals.js';

const RESULTS = 'bench/results';
const BENCHES: { name: string; script: string; args: string[] }[] = [
  { name: 'sdk', script: 'bench/sdk.ts', args: [] },
  { name: 'gateway', script: 'bench/gateway.ts', args: ['--quick'] },
  { name: 'simulator', script: 'bench/simulator.ts', args: [] },
  { name: 'flash', script: 'bench/flash-policy.ts', args: [] },
  { name: 'ops', script: 'bench/ops.ts', args: [] },
];

// --summary: only the table, from the result files already there.
const SUMMARY_ONLY = process.argv.includes('--summary');
const outcomes: Record<string, string> = {};
for (const bench of SUMMARY_ONLY ? [] : BENCHES) {
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

interface ResultFile {
  readonly when?: string;
  readonly ratios?: Record<string, number | null>;
  readonly goals?: Record<string, Goal>;
}
interface SummaryRow {
  readonly bench: string;
  readonly ratio: string;
  readonly value: number | null;
  readonly goal: Goal | undefined;
  readonly verdict: Verdict;
}

const summaryRows: SummaryRow[] = [];
const benches: Record<string, { outcome: string; when?: string; note?: string }> = {};
for (const name of BENCHES.map((b) => b.name)) benches[name] = { outcome: outcomes[name] ?? 'not run now (older result)' };
for (const file of readdirSync(RESULTS).filter((f) => f.endsWith('.json') && f !== 'summary.json').sort()) {
  const name = file.replace(/\.json$/, '');
  let result: ResultFile = {};
  try {
    result = JSON.parse(readFileSync(join(RESULTS, file), 'utf8')) as ResultFile;
  } catch (err) {
    process.stderr.write(`bench: ${file} is not valid JSON: ${(err as Error).message}\n`);
  }
  benches[name] = { outcome: benches[name]?.outcome ?? 'not run now (older result)', when: result.when };
  if (!result.ratios) {
    benches[name] = { ...benches[name]!, note: 'no ratios in its result file' };
    continue;
  }
  for (const [ratio, value] of Object.entries(result.ratios)) {
    const goal = result.goals?.[ratio];
    summaryRows.push({ bench: name, ratio, value: typeof value === 'number' ? value : null, goal, verdict: verdict(value, goal) });
  }
}
const count = (v: Verdict) => summaryRows.filter((r) => r.verdict === v).length;
process.stdout.write(
  `\n${formatTable([['bench', 'outcome'], ...Object.entries(benches).map(([n, b]) => [n, b.note ? `${b.outcome} (${b.note})` : b.outcome])])}\n\n${formatTable([
    ['bench', 'ratio', 'value', 'goal', ''],
    ...summaryRows.map((r) => [r.bench, r.ratio, r.value === null ? '-' : r.value.toFixed(3), goalText(r.goal), r.verdict]),
  ])}\n\ngoals: ${count('met')} met, ${count('NOT met')} not met, ${count('not measured')} not measured\n`,
);
writeFileSync(
  join(RESULTS, 'summary.json'),
  `${JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      goals: { met: count('met'), notMet: count('NOT met'), notMeasured: count('not measured') },
      benches,
      ratios: summaryRows,
    },
    null,
    2,
  )}\n`,
);
process.exit(Object.values(outcomes).some((o) => o.startsWith('failed')) ? 1 : 0);

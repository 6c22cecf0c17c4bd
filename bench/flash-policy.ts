/**
 * `npm run bench:flash`: the bear's flash policy against the best known
 * policies, on a simulated week of bedtime sessions per bear
 * (simulator/bedtime-trace.ts, ≥ 200 plays each, seeded), at the same block
 * budget and slot limits (simulator/offline-policies.ts): Belady (optimal),
 * LRU, SIEVE, S3-FIFO and W-TinyLFU, for three skews × three budgets.
 *
 * The firmware's policy is the simulator's model (simulator/flash-model.ts),
 * which test/simulator/flash-model-vs-firmware.test.ts keeps exact against
 * the real `teddy-bear`. It runs twice: on demand alone (every miss is a
 * download the admission rule may store) and with warm pushes (before each
 * night the gateway's planner, gateway/warm-planner.ts, sends a manifest
 * ranked by fleet popularity and the bear's own history so far).
 *
 * A third run of the firmware's policy gets an oracle's admission: a miss is
 * stored only if the clip will be played again (eviction unchanged). No
 * device can know that; it shows how much of the gap to Belady is knowing
 * *whether* a clip returns (admission) and how much is knowing *when*
 * (eviction order, which only an offline policy has).
 *
 * Prints a table, writes bench/results/flash-policy.json with `ratios`
 * (firmware ÷ Belady and ÷ the best other policy, worst cell; the oracle's
 * admission ÷ Belady, worst and best cell; warm ÷ demand-only Belady, mean
 * and worst).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { planWarm } from '../gateway/warm-planner.js';
import type { ClipInfo } from '../gateway/clip-catalog.js';
import { BLOCK_BYTES, budgetBlocks, FIRMWARE_LIMITS } from '../protocol/index.js';
import { bedtimeCatalogue, bedtimeWeek, type BedtimeWeek } from '../simulator/bedtime-trace.js';
import { createFlashModel } from '../simulator/flash-model.js';
import { OFFLINE_POLICIES, type PolicyName } from '../simulator/offline-policies.js';
import { formatTable } from '../simulator/summary-table.js';

const SKEWS = [0.6, 0.9, 1.2];
const BUDGETS = [128 * 1024, 256 * 1024, 512 * 1024];
const BEARS = Number(process.env.FLASH_BENCH_BEARS ?? 120);
const YARDSTICKS = Object.keys(OFFLINE_POLICIES) as PolicyName[];

function demandOnly(week: BedtimeWeek, budgetBytes: number): number {
  const flash = createFlashModel(budgetBytes);
  for (const p of week.plays) if (!flash.play(p.id)) flash.admitOnDemand(p.id, p.size);
  return flash.stats().hits;
}

/** demandOnly, storing a missed clip only if the trace plays it again later. */
function oracleAdmission(week: BedtimeWeek, budgetBytes: number): number {
  const playedAgain = new Array<boolean>(week.plays.length);
  const seen = new Set<string>();
  for (let i = week.plays.length - 1; i >= 0; i--) {
    playedAgain[i] = seen.has(week.plays[i]!.id);
    seen.add(week.plays[i]!.id);
  }
  const flash = createFlashModel(budgetBytes);
  week.plays.forEach((p, i) => {
    if (!flash.play(p.id) && playedAgain[i]) flash.admitOnDemand(p.id, p.size);
  });
  return flash.stats().hits;
}

/** The fleet's clips as the gateway's catalogue holds them (only what the planner reads matters). */
const catalogue: ClipInfo[] = bedtimeCatalogue().map((c) => ({
  clipId: Buffer.from(c.id, 'hex'), clipIdHex: c.id, sha256: c.id, size: c.size, codec: 1, text: '', voice: '',
  starter: c.starter, plays: Math.round(c.weight * 1000),
}));

function withWarmPushes(week: BedtimeWeek, budgetBytes: number): number {
  const flash = createFlashModel(budgetBytes);
  const history = new Map<string, number>();
  let seq = 0;
  week.plays.forEach((p, i) => {
    if (week.nightStarts.includes(i)) {
      const plan = planWarm(catalogue, history, budgetBytes);
      flash.applyWarm(++seq, plan.map((c) => ({ id: c.clip.clipIdHex, size: c.clip.size, pinned: c.pinned, priority: c.priority })));
    }
    history.set(p.id, (history.get(p.id) ?? 0) + 1);
    if (!flash.play(p.id)) flash.admitOnDemand(p.id, p.size);
  });
  return flash.stats().hits;
}

interface Cell {
  skew: number;
  budgetBytes: number;
  plays: number;
  hitRate: Record<PolicyName | 'firmware' | 'firmwareOracleAdmission' | 'firmwareWarm', number>;
  firmwareVsBelady: number;
  firmwareVsBestOther: number;
  oracleAdmissionVsBelady: number;
  bestOther: PolicyName;
  warmVsBeladyDemand: number;
}

const started = Date.now();
const cells: Cell[] = [];
for (const skew of SKEWS) {
  for (const budgetBytes of BUDGETS) {
    const blocks = budgetBlocks(budgetBytes);
    const hits: Record<string, number> = {};
    let plays = 0;
    for (let bear = 1; bear <= BEARS; bear++) {
      const week = bedtimeWeek({ seed: bear * 7919 + Math.round(skew * 100), skew });
      plays += week.plays.length;
      for (const name of YARDSTICKS) hits[name] = (hits[name] ?? 0) + OFFLINE_POLICIES[name](week.plays, blocks, FIRMWARE_LIMITS);
      hits.firmware = (hits.firmware ?? 0) + demandOnly(week, budgetBytes);
      hits.firmwareOracleAdmission = (hits.firmwareOracleAdmission ?? 0) + oracleAdmission(week, budgetBytes);
      hits.firmwareWarm = (hits.firmwareWarm ?? 0) + withWarmPushes(week, budgetBytes);
    }
    const hitRate = Object.fromEntries(Object.entries(hits).map(([k, v]) => [k, v / plays])) as Cell['hitRate'];
    const others = YARDSTICKS.filter((n) => n !== 'belady');
    const bestOther = others.reduce((a, b) => (hitRate[b] > hitRate[a] ? b : a));
    cells.push({
      skew, budgetBytes, plays, hitRate, bestOther,
      firmwareVsBelady: hitRate.firmware / hitRate.belady,
      firmwareVsBestOther: hitRate.firmware / hitRate[bestOther],
      oracleAdmissionVsBelady: hitRate.firmwareOracleAdmission / hitRate.belady,
      warmVsBeladyDemand: hitRate.firmwareWarm / hitRate.belady,
    });
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const rows = [['skew', 'budget', 'plays', 'Belady', 'LRU', 'SIEVE', 'S3-FIFO', 'W-TinyLFU', 'firmware', 'fw/Belady', 'fw/best other', 'fw, oracle admits', 'fw + warm', 'warm/Belady']];
for (const c of cells) {
  rows.push([
    c.skew.toFixed(1), `${c.budgetBytes / 1024} KiB`, String(c.plays),
    ...YARDSTICKS.map((n) => pct(c.hitRate[n])), pct(c.hitRate.firmware),
    c.firmwareVsBelady.toFixed(3), `${c.firmwareVsBestOther.toFixed(3)} (${c.bestOther})`,
    `${pct(c.hitRate.firmwareOracleAdmission)} (${c.oracleAdmissionVsBelady.toFixed(3)})`,
    pct(c.hitRate.firmwareWarm), c.warmVsBeladyDemand.toFixed(3),
  ]);
}
process.stdout.write(`flash policy, ${BEARS} bears × a week of bedtimes per cell, hit rate = plays served from flash\n${formatTable(rows)}\n`);

const min = (f: (c: Cell) => number) => Math.min(...cells.map(f));
const mean = (f: (c: Cell) => number) => cells.reduce((s, c) => s + f(c), 0) / cells.length;
const ratios = {
  firmwareVsBeladyMin: min((c) => c.firmwareVsBelady),
  firmwareVsBeladyMean: mean((c) => c.firmwareVsBelady),
  firmwareVsBestOtherMin: min((c) => c.firmwareVsBestOther),
  oracleAdmissionVsBeladyMin: min((c) => c.oracleAdmissionVsBelady),
  oracleAdmissionVsBeladyMax: Math.max(...cells.map((c) => c.oracleAdmissionVsBelady)),
  warmVsBeladyDemandMin: min((c) => c.warmVsBeladyDemand),
  warmVsBeladyDemandMean: mean((c) => c.warmVsBeladyDemand),
};
const result = {
  name: 'flash-policy', when: new Date().toISOString(), seconds: (Date.now() - started) / 1000,
  bearsPerCell: BEARS, blockBytes: BLOCK_BYTES, limits: FIRMWARE_LIMITS,
  goals: { firmwareVsBelady: 0.9, firmwareVsBestOther: 1 },
  cells, ratios,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/flash-policy.json', `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${formatTable([['ratio', 'value'], ...Object.entries(ratios).map(([k, v]) => [k, v.toFixed(3)])])}\nwrote bench/results/flash-policy.json\n`);

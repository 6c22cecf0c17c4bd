/**
 * `npm run bench:sdk`: the SDK's hot paths against the raw building blocks,
 * in one run on one machine, so the ratios mean something:
 *   - L1 hit (`await cache.get`) vs a bare lru-cache `get`
 *   - L2 hit (L1 off) vs a bare ioredis `getBuffer` of the same record size, on the same Redis
 *   - a miss + compute (`getWithFallback`, unique keys) vs calling the compute function
 * Each op is timed alone (hrtime) into an HDR histogram; throughput is timed over a batch.
 * Prints a table; writes bench/results/sdk.json.
 * Options: --iterations N (default 200000 for L1, a tenth of it for L2 and misses).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { startRedisServer } from '../infra/redis-server.js';
import { ContentType, createCache, type MultiLayerCache } from '../sdk/index.js';
import { formatTable } from '../simulator/summary-table.js';

const args = process.argv.slice(2);
const iterArg = args.indexOf('--iterations');
const L1_OPS = iterArg >= 0 ? Number(args[iterArg + 1]) : 200_000;
const L2_OPS = Math.max(1000, Math.round(L1_OPS / 10));
if (!(L1_OPS > 0)) {
  process.stderr.write('usage: npm run bench:sdk [-- --iterations N]\n');
  process.exit(2);
}

interface Row {
  name: string;
  ops: number;
  opsPerSec: number;
  p50us: number;
  p90us: number;
  p99us: number;
  meanUs: number;
}

const hist = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });

/** Times each op alone (ns) for percentiles, and the whole loop for throughput. */
async function measure(name: string, ops: number, op: (i: number) => unknown): Promise<Row> {
  for (let i = 0; i < Math.min(ops, 5000); i++) await op(i); // warm up the JIT
  const h = hist();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const t0 = process.hrtime.bigint();
    await op(i);
    h.recordValue(Number(process.hrtime.bigint() - t0));
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    name,
    ops,
    opsPerSec: ops / seconds,
    p50us: h.getValueAtPercentile(50) / 1000,
    p90us: h.getValueAtPercentile(90) / 1000,
    p99us: h.getValueAtPercentile(99) / 1000,
    meanUs: h.mean / 1000,
  };
}

/** Throughput of a tight loop without per-op timers (the timers cost as much as an L1 hit). */
async function tight(ops: number, op: (i: number) => unknown, isAsync: boolean): Promise<number> {
  const start = process.hrtime.bigint();
  if (isAsync) for (let i = 0; i < ops; i++) await op(i);
  else for (let i = 0; i < ops; i++) op(i);
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

const redis = await startRedisServer();
const dataDir = join(tmpdir(), `teddy-bench-sdk-${process.pid}`);
const quiet = { warn: () => {}, error: () => {} };
const value = { reply: 'Honey is sticky and sweet, and bears love it.', clip: 'a1b2c3d4e5f60718', n: 42 };
const KEYS = 1000;
const keys = Array.from({ length: KEYS }, (_, i) => `question-${i}`);
const rows: Row[] = [];
const caches: MultiLayerCache[] = [];

try {
  // --- L1 ---
  const l1Cache = await createCache({ l2RedisUrl: redis.url, dataDir, logger: quiet });
  caches.push(l1Cache);
  const bare = new LRUCache<string, object>({ max: 10_000 });
  for (const k of keys) {
    await l1Cache.set(k, value, ContentType.CONFIGURATION);
    bare.set(k, value);
  }
  rows.push(await measure('L1 hit: cache.get', L1_OPS, (i) => l1Cache.get(keys[i % KEYS]!, ContentType.CONFIGURATION)));
  rows.push(await measure('L1 hit: cache.peek (sync)', L1_OPS, (i) => l1Cache.peek(keys[i % KEYS]!, ContentType.CONFIGURATION)));
  rows.push(await measure('bare lru-cache get', L1_OPS, (i) => bare.get(keys[i % KEYS]!)));
  const l1Tight = await tight(L1_OPS * 5, (i) => l1Cache.get(keys[i % KEYS]!, ContentType.CONFIGURATION), true);
  const peekTight = await tight(L1_OPS * 5, (i) => l1Cache.peek(keys[i % KEYS]!, ContentType.CONFIGURATION), false);
  const bareTight = await tight(L1_OPS * 5, (i) => bare.get(keys[i % KEYS]!), false);
  const bareAwaitTight = await tight(L1_OPS * 5, (i) => bare.get(keys[i % KEYS]!), true);

  // --- L2 ---
  const l2Cache = await createCache({ l2RedisUrl: redis.url, dataDir, logger: quiet, l1Enabled: false, keyPrefix: 'l2bench:' });
  caches.push(l2Cache);
  const raw = new Redis(redis.url);
  for (const k of keys) await l2Cache.set(k, value, ContentType.CONFIGURATION);
  const [sampleKey] = await raw.keys('l2bench:configuration:*');
  const record = (await raw.getBuffer(sampleKey!))!;
  for (let i = 0; i < KEYS; i++) await raw.set(`bare:${i}`, record);
  rows.push(await measure('L2 hit: cache.get (L1 off)', L2_OPS, (i) => l2Cache.get(keys[i % KEYS]!, ContentType.CONFIGURATION)));
  rows.push(await measure('bare ioredis getBuffer', L2_OPS, (i) => raw.getBuffer(`bare:${i % KEYS}`)));
  for (const k of keys) await l2Cache.set(k, value, ContentType.AI_RESPONSE);
  rows.push(await measure('L2 hit, AES-GCM type (L1 off)', L2_OPS, (i) => l2Cache.get(keys[i % KEYS]!, ContentType.AI_RESPONSE)));

  // --- miss + compute ---
  const compute = () => value;
  let n = 0;
  rows.push(await measure('miss + compute (L1+L2)', L2_OPS, () => l1Cache.getWithFallback(`miss-${n++}`, ContentType.CONFIGURATION, compute)));
  rows.push(await measure('compute alone', L2_OPS, () => compute()));
  raw.disconnect();

  const find = (name: string) => rows.find((r) => r.name === name)!;
  const ratios = {
    l1HitVsBareLru_p50: find('L1 hit: cache.get').p50us / find('bare lru-cache get').p50us,
    l1HitVsBareLru_throughput: bareTight / l1Tight,
    l1HitVsAwaitedBareLru_throughput: bareAwaitTight / l1Tight,
    l1PeekVsBareLru_p50: find('L1 hit: cache.peek (sync)').p50us / find('bare lru-cache get').p50us,
    l1PeekVsBareLru_throughput: bareTight / peekTight,
    l2HitVsBareIoredis_p50: find('L2 hit: cache.get (L1 off)').p50us / find('bare ioredis getBuffer').p50us,
    l2HitVsBareIoredis_p99: find('L2 hit: cache.get (L1 off)').p99us / find('bare ioredis getBuffer').p99us,
    l2EncryptedHitVsBareIoredis_p50: find('L2 hit, AES-GCM type (L1 off)').p50us / find('bare ioredis getBuffer').p50us,
    missOverheadUs_p50: find('miss + compute (L1+L2)').p50us - find('compute alone').p50us,
  };
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  process.stdout.write(
    `${formatTable([
      ['operation', 'ops', 'ops/s', 'p50 µs', 'p90 µs', 'p99 µs', 'mean µs'],
      ...rows.map((r) => [r.name, String(r.ops), fmt(r.opsPerSec), fmt(r.p50us), fmt(r.p90us), fmt(r.p99us), fmt(r.meanUs)]),
    ])}\n\ntight loops (no per-op timer), ops/s: L1 cache.get ${fmt(l1Tight)} · L1 cache.peek ${fmt(peekTight)} · bare lru get ${fmt(bareTight)} · awaited bare lru get ${fmt(bareAwaitTight)}\n\n${formatTable([
      ['ratio', 'value', 'goal'],
      ['L1 hit, sync peek / bare lru-cache (p50, timed per op)', ratios.l1PeekVsBareLru_p50.toFixed(2), '≤ 2'],
      ['L1 hit, sync peek / bare lru-cache (tight loop)', ratios.l1PeekVsBareLru_throughput.toFixed(2), '≤ 2'],
      ['L1 hit, await get / bare lru-cache (p50, timed per op)', ratios.l1HitVsBareLru_p50.toFixed(2), '≤ 2'],
      ['L1 hit, await get / bare lru-cache (tight loop)', ratios.l1HitVsBareLru_throughput.toFixed(2), ''],
      ['L1 hit, await get / awaited bare lru-cache (tight loop)', ratios.l1HitVsAwaitedBareLru_throughput.toFixed(2), ''],
      ['L2 hit / bare ioredis getBuffer (p50)', ratios.l2HitVsBareIoredis_p50.toFixed(2), '≤ 1.3'],
      ['L2 hit / bare ioredis getBuffer (p99)', ratios.l2HitVsBareIoredis_p99.toFixed(2), ''],
      ['L2 hit AES-GCM / bare ioredis (p50)', ratios.l2EncryptedHitVsBareIoredis_p50.toFixed(2), ''],
      ['miss overhead over compute, p50 µs', ratios.missOverheadUs_p50.toFixed(1), ''],
    ])}\n`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/sdk.json',
    `${JSON.stringify(
      {
        name: 'sdk',
        when: new Date().toISOString(),
        machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
        iterations: { l1: L1_OPS, l2: L2_OPS },
        rows,
        tightLoopOpsPerSec: { l1CacheGet: l1Tight, l1CachePeek: peekTight, bareLruGet: bareTight, awaitedBareLruGet: bareAwaitTight },
        ratios,
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write('wrote bench/results/sdk.json\n');
} finally {
  await Promise.all(caches.map((c) => c.close()));
  await redis.stop();
}

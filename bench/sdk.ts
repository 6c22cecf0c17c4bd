/**
 * `npm run bench:sdk`: the SDK's hot paths in one run, on one machine, on the
 * same Redis as its peers (BentoCache 1.6 and cache-manager 7, set up as
 * their docs recommend: ./sdk-peers.ts) and next to the raw building blocks
 * (a bare lru-cache `get`, a bare ioredis `getBuffer`, single and Cluster):
 *
 *   L1 hit      tight loop over a 1,000-key hot set: `peek` vs a bare synchronous
 *               lru-cache `get`; `await cache.get` vs an awaited bare `get`; the peers' `get`
 *   L2 hit      a second instance reading keys another one wrote (its L1 misses, L2 hits,
 *               one read at a time), vs the peers doing the same, vs a bare `getBuffer` of
 *               the same records, on one Redis and on a 3+3 Redis Cluster, and vs a bare
 *               node-redis GET of them (the client cache-manager's @keyv/redis uses: the
 *               difference between the two bare clients is not the cache's). cache-manager's
 *               `get` does not copy an L2 hit into its L1 (ours and BentoCache's do, so the
 *               next read is a memory hit); the rows "without L1 fill" read with
 *               `{ skipL1: true }`, which does the same work as its `get`, to compare like with like
 *   miss        read-through with a compute on unique keys, one at a time, vs the peers
 *   (L2 hit and miss also with 32 calls in flight, as a gateway serving many bears has them)
 *   miss CPU    this process's CPU per miss at 32 in flight, ours and the peers', beside our
 *               miss's two scripts alone through the SDK's own L2 layer and through node-redis,
 *               and cache-manager's GET + SET through node-redis: what the Redis commands and
 *               client cost, apart from what each cache around them does
 *   stampede    200 concurrent misses of one key over two instances: how many computes
 *
 * The SDK measured is the one the package publishes (./published-sdk.ts: the compiled
 * dist/sdk/, built first), not the TypeScript source under tsx.
 *
 * Each figure is the median of interleaved rounds (other work shares the machine). Prints a
 * table; writes bench/results/sdk.json with `ratios` (ours over the reference, oriented so that
 * meeting the goal means ≥ `min` or ≤ `max`) and `goals` beside them.
 * Options: --quick (shorter rounds), --no-cluster.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, RESP_TYPES } from '@redis/client';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { buildCompiled } from '../infra/production-launch.js';
import { startRedisServer } from '../infra/redis-server.js';
import type { CacheConfig, MultiLayerCache } from '../sdk/index.js';
import { createKeyLayout } from '../sdk/key-layout.js';
import { formatTable } from '../simulator/summary-table.js';
import { measureClusterL2Hit, type ClusterL2Hit } from './cluster-l2-hit.js';
import { goalText, verdict, type Goal } from './goals.js';
import { importPublishedL2, importPublishedSdk } from './published-sdk.js';
import { bentoPeer, cacheManagerPeer, type PeerCache } from './sdk-peers.js';
import { fill, median, rounds as roundsOf, sequential } from './timing.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const WITH_CLUSTER = !args.includes('--no-cluster');
const unknown = args.filter((a) => !['--quick', '--no-cluster'].includes(a));
if (unknown.length > 0) {
  process.stderr.write(`usage: npm run bench:sdk [-- --quick] [--no-cluster]\n(unknown: ${unknown.join(' ')})\n`);
  process.exit(2);
}

const ROUNDS = QUICK ? 3 : 5;
const L1_ROUND_MS = QUICK ? 150 : 400;
const L2_READS = QUICK ? 1000 : 3000;
const MISSES = QUICK ? 1000 : 3000;
/** Operations per round of the 32-in-flight rows: at 100 k/s and more, fewer would time a GC pause or two. */
const CONCURRENT_OPS = QUICK ? 3000 : 15000;
const HOT_KEYS = 1000;
/** Callers at once in the concurrent rows (many bears' lookups in flight on one gateway). */
const CONCURRENCY = 32;
buildCompiled();
const sdk = await importPublishedSdk();
const { ContentType, createCache } = sdk;
const TYPE = ContentType.CONFIGURATION; // not encrypted: the peers do not encrypt either
const value = { reply: 'Honey is sticky and sweet, and bears love it.', clip: 'a1b2c3d4e5f60718', n: 42 };
const quiet = { warn: () => {}, error: () => {} };
/** An L2 read that neither reads nor fills L1: what cache-manager's `get` does on an L2 hit. */
const NO_FILL = { skipL1: true } as const;

type Op = (i: number) => unknown;

/** ops/s of a tight loop (no per-op timer) running for about `ms`, after a JIT warm-up. */
async function rate(ms: number, op: Op, isAsync: boolean): Promise<number> {
  const batch = 10_000;
  const run = async (n: number, from: number) => {
    if (isAsync) for (let i = from; i < from + n; i++) await op(i);
    else for (let i = from; i < from + n; i++) op(i);
  };
  await run(batch, 0);
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms * 1e6);
  while (process.hrtime.bigint() < deadline) {
    await run(batch, ops);
    ops += batch;
  }
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** This process's CPU time per operation (µs) in each round of a named concurrent loop. */
const cpuPerOp: Record<string, number[]> = {};

/** `CONCURRENCY` callers at once over `n` operations: ops/s (and, given a name, CPU per op into `cpuPerOp`). */
async function concurrent(n: number, op: (i: number) => Promise<unknown>, cpuName?: string): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await op(next++);
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (cpuName) {
    const used = process.cpuUsage(cpu);
    (cpuPerOp[cpuName] ??= []).push((used.user + used.system) / n);
  }
  return n / seconds;
}

const dataDir = join(tmpdir(), `teddy-bench-sdk-${process.pid}`);
const redis = await startRedisServer();
const toClose: { close(): Promise<unknown> }[] = [];
const ours = async (config: Partial<CacheConfig>): Promise<MultiLayerCache> => {
  const cache = await createCache({ l2RedisUrl: redis.url, dataDir, logger: quiet, ...config });
  toClose.push(cache);
  return cache;
};
const peer = <P extends PeerCache>(p: P): P => (toClose.push(p), p);
const rounds = <T extends string>(variants: Record<T, (round: number) => Promise<number>>) => roundsOf(ROUNDS, variants);

try {
  // --- L1 hit: a 1,000-key hot set, tight loops ---
  const hot = Array.from({ length: HOT_KEYS }, (_, i) => `question-${i}`);
  const l1Ours = await ours({ keyPrefix: 'b1:' });
  const l1Bento = peer(bentoPeer(redis.port, 'b1bento'));
  const l1Cm = peer(cacheManagerPeer(redis.url, 'b1cm'));
  const bare = new LRUCache<string, object>({ max: 10_000 });
  for (const k of hot) {
    await Promise.all([l1Ours.set(k, value, TYPE), l1Bento.set(k, value), l1Cm.set(k, value)]);
    bare.set(k, value);
  }
  const key = (i: number) => hot[i % HOT_KEYS]!;
  const l1 = await rounds({
    bareGet: () => rate(L1_ROUND_MS, (i) => bare.get(key(i)), false),
    bareGetAwaited: () => rate(L1_ROUND_MS, (i) => bare.get(key(i)), true),
    peek: () => rate(L1_ROUND_MS, (i) => l1Ours.peek(key(i), TYPE), false),
    get: () => rate(L1_ROUND_MS, (i) => l1Ours.get(key(i), TYPE), true),
    fetch: () => rate(L1_ROUND_MS, (i) => l1Ours.fetch(key(i), TYPE, () => value), true),
    bento: () => rate(L1_ROUND_MS, (i) => l1Bento.get(key(i)), true),
    cacheManager: () => rate(L1_ROUND_MS, (i) => l1Cm.get(key(i)), true),
  });
  if (l1Ours.getPerformanceMetrics().layers.l1.hits === 0) throw new Error('L1 bench did not hit L1');

  // --- L2 hit: a second instance reads what a first one wrote ---
  const keySets = new Map<string, string[]>();
  /** The keys of one system and round, built once (not in the timed loop). */
  const l2Keys = (system: string, round: number): string[] => {
    const name = `${system}-r${round}`;
    let keys = keySets.get(name);
    if (!keys) keySets.set(name, (keys = Array.from({ length: Math.max(L2_READS, CONCURRENT_OPS) }, (_, i) => `${name}-k${i}`)));
    return keys;
  };
  const raw = new Redis(redis.url);
  const rawNodeRedis = createClient({ url: redis.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await rawNodeRedis.connect();
  toClose.push({ close: () => rawNodeRedis.quit() });
  const writerOurs = await ours({ keyPrefix: 'b2:' });
  const readerOurs = await ours({ keyPrefix: 'b2:' });
  const writerBento = peer(bentoPeer(redis.port, 'b2bento'));
  const readerBento = peer(bentoPeer(redis.port, 'b2bento'));
  const writerCm = peer(cacheManagerPeer(redis.url, 'b2cm'));
  const readerCm = peer(cacheManagerPeer(redis.url, 'b2cm'));
  for (let r = 0; r < ROUNDS; r++) {
    await fill(l2Keys('ours', r), (k) => writerOurs.set(k, value, TYPE));
    await fill(l2Keys('bento', r), (k) => writerBento.set(k, value));
    await fill(l2Keys('cm', r), (k) => writerCm.set(k, value));
  }
  const l2Latency: Record<string, number[]> = {};
  const seq = (name: string, op: (i: number) => Promise<unknown>) => async () => {
    const { opsPerSec, meanUs } = await sequential(L2_READS, op);
    (l2Latency[name] ??= []).push(meanUs);
    return opsPerSec;
  };
  const b2 = createKeyLayout('b2:');
  /** The Redis names of our keys of a round, for the bare clients (built before their timed loop). */
  const ourRedisKeys = (round: number): string[] => l2Keys('ours', round).map((k) => b2.entry(TYPE, k).l2Key);
  const l2 = await rounds({
    ours: (r) => seq('ours', (i) => readerOurs.get(l2Keys('ours', r)[i]!, TYPE))(),
    oursNoFill: (r) => seq('oursNoFill', (i) => readerOurs.get(l2Keys('ours', r)[i]!, TYPE, NO_FILL))(),
    bareGetBuffer: (r) => {
      const redisKeys = ourRedisKeys(r);
      return seq('bareGetBuffer', (i) => raw.getBuffer(redisKeys[i]!))();
    },
    bareNodeRedisGet: (r) => {
      const redisKeys = ourRedisKeys(r);
      return seq('bareNodeRedisGet', (i) => rawNodeRedis.get(redisKeys[i]!))();
    },
    bento: (r) => seq('bento', (i) => readerBento.get(l2Keys('bento', r)[i]!))(),
    cacheManager: (r) => seq('cacheManager', (i) => readerCm.get(l2Keys('cm', r)[i]!))(),
  });
  // The same, 32 reads in flight: fresh instances (empty L1s), keys written above.
  const [conOurs, conBento, conCm] = [await ours({ keyPrefix: 'b2:' }), peer(bentoPeer(redis.port, 'b2bento')), peer(cacheManagerPeer(redis.url, 'b2cm'))];
  const l2Concurrent = await rounds({
    ours: (r) => concurrent(CONCURRENT_OPS, (i) => conOurs.get(l2Keys('ours', r)[i]!, TYPE)),
    oursNoFill: (r) => concurrent(CONCURRENT_OPS, (i) => conOurs.get(l2Keys('ours', r)[i]!, TYPE, NO_FILL)),
    bareGetBuffer: (r) => {
      const redisKeys = ourRedisKeys(r);
      return concurrent(CONCURRENT_OPS, (i) => raw.getBuffer(redisKeys[i]!));
    },
    bareNodeRedisGet: (r) => {
      const redisKeys = ourRedisKeys(r);
      return concurrent(CONCURRENT_OPS, (i) => rawNodeRedis.get(redisKeys[i]!));
    },
    bento: (r) => concurrent(CONCURRENT_OPS, (i) => conBento.get(l2Keys('bento', r)[i]!)),
    cacheManager: (r) => concurrent(CONCURRENT_OPS, (i) => conCm.get(l2Keys('cm', r)[i]!)),
  });
  const l2Hits = readerOurs.getPerformanceMetrics().layers.l2.hits;
  if (l2Hits < L2_READS * ROUNDS) throw new Error(`L2 bench: only ${l2Hits} L2 hits`);

  // --- miss + compute, one at a time ---
  const missOurs = await ours({ keyPrefix: 'b3:' });
  const missBento = peer(bentoPeer(redis.port, 'b3bento'));
  const missCm = peer(cacheManagerPeer(redis.url, 'b3cm'));
  const compute = () => value;
  const miss = await rounds({
    ours: (r) => sequential(MISSES, (i) => missOurs.getWithFallback(`miss-r${r}-${i}`, TYPE, compute)).then((x) => x.opsPerSec),
    bento: (r) => sequential(MISSES, (i) => missBento.getOrCompute(`miss-r${r}-${i}`, compute)).then((x) => x.opsPerSec),
    cacheManager: (r) => sequential(MISSES, (i) => missCm.getOrCompute(`miss-r${r}-${i}`, compute)).then((x) => x.opsPerSec),
  });

  // Where a concurrent miss's CPU goes: beside the caches, the two scripts of our miss alone
  // (read-or-lock, then write + announce + unlock) through the SDK's own L2 layer as the cache
  // drives it (ioredis, one write per tick), the same scripts through node-redis (the client under
  // cache-manager's @keyv/redis), and cache-manager's GET + SET through node-redis.
  const sdkL2 = await importPublishedL2();
  const bareL2 = sdkL2.connectL2({ mode: 'single', url: redis.url, tls: false }, undefined, sdk.resolveConfig({ l2RedisUrl: redis.url }), { onError: () => {}, onBreaker: () => {} });
  toClose.push(bareL2);
  const [readOrLockSha, writeSha] = await Promise.all([rawNodeRedis.scriptLoad(sdkL2.READ_OR_LOCK.one), rawNodeRedis.scriptLoad(sdkL2.WRITE.one)]);
  const b5 = createKeyLayout('b5:');
  const record = Buffer.alloc(96, 1); // about what our value's record is
  const announce = (l2Key: string) => `${'0'.repeat(36)}\n${l2Key}`; // the bus's message: origin id, then the key
  const LEASE_MS = 10_000;
  const KEEP_MS = 600_000;
  const missConcurrent = await rounds({
    ours: (r) => concurrent(CONCURRENT_OPS, (i) => missOurs.getWithFallback(`cmiss-r${r}-${i}`, TYPE, compute), 'ours'),
    bento: (r) => concurrent(CONCURRENT_OPS, (i) => missBento.getOrCompute(`cmiss-r${r}-${i}`, compute), 'bento'),
    cacheManager: (r) => concurrent(CONCURRENT_OPS, (i) => missCm.getOrCompute(`cmiss-r${r}-${i}`, compute), 'cacheManager'),
    sdkL2Scripts: (r) =>
      concurrent(CONCURRENT_OPS, async (i) => {
        const keys = b5.entry(TYPE, `io-r${r}-${i}`);
        const read = await bareL2.readOrLock(keys, Date.now(), LEASE_MS);
        const token = read !== sdkL2.FAILED && read.state === 'locked' ? read.token : '';
        await bareL2.write(keys, record, KEEP_MS, token, announce(keys.l2Key));
      }, 'sdkL2Scripts'),
    nodeRedisScripts: (r) =>
      concurrent(CONCURRENT_OPS, async (i) => {
        const keys = b5.entry(TYPE, `nr-r${r}-${i}`);
        const token = sdkL2.newLockToken();
        await rawNodeRedis.evalSha(readOrLockSha, { keys: [keys.l2Key, keys.lockKey], arguments: [String(Date.now()), token, String(LEASE_MS)] });
        await rawNodeRedis.evalSha(writeSha, { keys: [keys.l2Key, keys.lockKey], arguments: [record, String(KEEP_MS), token, keys.channel, announce(keys.l2Key)] });
      }, 'nodeRedisScripts'),
    // What cache-manager's miss asks of Redis: a GET that finds nothing, then a SET.
    nodeRedisGetSet: (r) =>
      concurrent(CONCURRENT_OPS, async (i) => {
        const { l2Key } = b5.entry(TYPE, `gs-r${r}-${i}`);
        await rawNodeRedis.get(l2Key);
        await rawNodeRedis.set(l2Key, record, { PX: KEEP_MS });
      }, 'nodeRedisGetSet'),
  });
  const missCpuUs = Object.fromEntries(Object.entries(cpuPerOp).map(([k, v]) => [k, median(v)])) as Record<keyof typeof missConcurrent, number>;

  // --- 200 concurrent misses of one key over two instances ---
  const stampede = async (a: (c: () => Promise<unknown>) => Promise<unknown>, b: (c: () => Promise<unknown>) => Promise<unknown>) => {
    let computes = 0;
    const slow = async () => {
      computes += 1;
      await sleep(50);
      return value;
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b)(slow)));
    return computes;
  };
  const [sa, sb] = [await ours({ keyPrefix: 'b4:' }), await ours({ keyPrefix: 'b4:' })];
  const [ba, bb] = [peer(bentoPeer(redis.port, 'b4bento')), peer(bentoPeer(redis.port, 'b4bento'))];
  const [ca, cb] = [peer(cacheManagerPeer(redis.url, 'b4cm')), peer(cacheManagerPeer(redis.url, 'b4cm'))];
  const computes = {
    ours: await stampede((c) => sa.getWithFallback('stampede', TYPE, c), (c) => sb.getWithFallback('stampede', TYPE, c)),
    bento: await stampede((c) => ba.getOrCompute('stampede', c), (c) => bb.getOrCompute('stampede', c)),
    cacheManager: await stampede((c) => ca.getOrCompute('stampede', c), (c) => cb.getOrCompute('stampede', c)),
  };

  // --- L2 hit on a 3+3 Redis Cluster ---
  const l2Cluster: ClusterL2Hit | undefined = WITH_CLUSTER
    ? await measureClusterL2Hit(sdk, { roundCount: ROUNDS, reads: L2_READS, dataDir })
    : undefined;
  raw.disconnect();

  const latency = (name: string) => median(l2Latency[name]!);
  const bestPeer = (x: { bento: number; cacheManager: number }) => Math.max(x.bento, x.cacheManager);
  const ratios: Record<string, number | null> = {
    l1PeekVsBareLruGet: l1.peek / l1.bareGet,
    l1AwaitGetVsAwaitedBareLruGet: l1.get / l1.bareGetAwaited,
    l1AwaitGetVsBestPeer: l1.get / bestPeer(l1),
    l2HitVsBestPeer: l2.ours / bestPeer(l2),
    l2HitConcurrentVsBestPeer: l2Concurrent.ours / bestPeer(l2Concurrent),
    l2HitVsBento: l2.ours / l2.bento,
    l2HitConcurrentVsBento: l2Concurrent.ours / l2Concurrent.bento,
    l2HitNoFillVsCacheManager: l2.oursNoFill / l2.cacheManager,
    l2HitNoFillConcurrentVsCacheManager: l2Concurrent.oursNoFill / l2Concurrent.cacheManager,
    l2HitConcurrentVsBareGetBuffer: l2Concurrent.ours / l2Concurrent.bareGetBuffer,
    l2HitLatencyVsBareGetBuffer: latency('ours') / latency('bareGetBuffer'),
    bareIoredisVsBareNodeRedisConcurrent: l2Concurrent.bareGetBuffer / l2Concurrent.bareNodeRedisGet,
    l2HitLatencyVsBareClusterGetBuffer: l2Cluster ? l2Cluster.oursUs / l2Cluster.bareGetBufferUs : null,
    missComputeVsBestPeer: miss.ours / bestPeer(miss),
    missComputeConcurrentVsBestPeer: missConcurrent.ours / bestPeer(missConcurrent),
    missCpuConcurrentVsCacheManager: missCpuUs.ours / missCpuUs.cacheManager,
    missScriptsCpuIoredisVsNodeRedis: missCpuUs.sdkL2Scripts / missCpuUs.nodeRedisScripts,
    stampedeComputesOverTwoInstances: computes.ours,
  };
  const goals: Record<string, Goal> = {
    l1PeekVsBareLruGet: { min: 0.5 },
    l1AwaitGetVsAwaitedBareLruGet: { min: 0.7 },
    l2HitVsBestPeer: { min: 1.0 },
    l2HitConcurrentVsBestPeer: { min: 1.0 },
    l2HitConcurrentVsBareGetBuffer: { min: 1 / 1.3 },
    l2HitLatencyVsBareGetBuffer: { max: 1.3 },
    l2HitLatencyVsBareClusterGetBuffer: { max: 1.3 },
    missComputeVsBestPeer: { min: 1.0 },
    missComputeConcurrentVsBestPeer: { min: 1.0 },
    stampedeComputesOverTwoInstances: { max: 1 },
  };

  const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(1));
  const us = (x: number) => `${x.toFixed(1)} µs`;
  const table = [
    ['measure', 'teddycache', 'BentoCache 1.6', 'cache-manager 7', 'bare building block'],
    ['L1 hit, sync peek / bare get (ops/s)', fmt(l1.peek), '', '', `${fmt(l1.bareGet)} (lru-cache get)`],
    ['L1 hit, await get (ops/s)', fmt(l1.get), fmt(l1.bento), fmt(l1.cacheManager), `${fmt(l1.bareGetAwaited)} (awaited lru-cache get)`],
    ['L1 hit, await fetch (ops/s)', fmt(l1.fetch), '', '', ''],
    ['L2 hit, one at a time (ops/s)', fmt(l2.ours), fmt(l2.bento), fmt(l2.cacheManager), `${fmt(l2.bareGetBuffer)} (ioredis getBuffer), ${fmt(l2.bareNodeRedisGet)} (node-redis GET)`],
    ['L2 hit, mean latency', us(latency('ours')), us(latency('bento')), us(latency('cacheManager')), `${us(latency('bareGetBuffer'))}, ${us(latency('bareNodeRedisGet'))}`],
    ...(l2Cluster ? [['L2 hit on the 3+3 cluster, mean latency', us(l2Cluster.oursUs), '', '', `${us(l2Cluster.bareGetBufferUs)} (Cluster getBuffer)`]] : []),
    ['L2 hit without L1 fill, one at a time (ops/s)', fmt(l2.oursNoFill), '', fmt(l2.cacheManager), ''],
    [`L2 hit, ${CONCURRENCY} in flight (ops/s)`, fmt(l2Concurrent.ours), fmt(l2Concurrent.bento), fmt(l2Concurrent.cacheManager), `${fmt(l2Concurrent.bareGetBuffer)} (ioredis getBuffer), ${fmt(l2Concurrent.bareNodeRedisGet)} (node-redis GET)`],
    [`L2 hit without L1 fill, ${CONCURRENCY} in flight (ops/s)`, fmt(l2Concurrent.oursNoFill), '', fmt(l2Concurrent.cacheManager), ''],
    ['miss + compute, one at a time (ops/s)', fmt(miss.ours), fmt(miss.bento), fmt(miss.cacheManager), ''],
    [`miss + compute, ${CONCURRENCY} in flight (ops/s)`, fmt(missConcurrent.ours), fmt(missConcurrent.bento), fmt(missConcurrent.cacheManager), ''],
    [
      `  CPU per miss, ${CONCURRENCY} in flight`, us(missCpuUs.ours), us(missCpuUs.bento), us(missCpuUs.cacheManager),
      `our two scripts alone: ${us(missCpuUs.sdkL2Scripts)} (SDK's L2 layer, ioredis), ${us(missCpuUs.nodeRedisScripts)} (node-redis); GET + SET: ${us(missCpuUs.nodeRedisGetSet)} (node-redis)`,
    ],
    ['computes, 200 concurrent misses over 2 instances', String(computes.ours), String(computes.bento), String(computes.cacheManager), ''],
  ];
  process.stdout.write(
    `${formatTable(table)}\n\n${formatTable([
      ['ratio', 'value', 'goal', ''],
      ...Object.entries(ratios).map(([k, v]) => [k, v === null ? '-' : v.toFixed(3), goalText(goals[k]), verdict(v, goals[k])]),
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
        settings: { rounds: ROUNDS, l1RoundMs: L1_ROUND_MS, l2ReadsPerRound: L2_READS, missesPerRound: MISSES, concurrentOpsPerRound: CONCURRENT_OPS, hotKeys: HOT_KEYS, concurrency: CONCURRENCY },
        opsPerSec: { l1, l2, l2Concurrent, miss, missConcurrent },
        missCpuUsPerOp: missCpuUs,
        l2MeanLatencyUs: Object.fromEntries(Object.keys(l2Latency).map((k) => [k, latency(k)])),
        computes,
        ratios,
        goals,
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write('wrote bench/results/sdk.json\n');
} finally {
  await Promise.allSettled(toClose.map((c) => c.close()));
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true });
}

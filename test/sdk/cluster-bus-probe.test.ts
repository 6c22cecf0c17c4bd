/**
 * The deaf-subscriber case of ./bus-probe.test.ts on a real 3+3 Redis
 * Cluster, where the subscriber is a group of sharded-subscriber connections,
 * one per master, and the remedy is ioredis's Cluster reconnect. To put a
 * proxy between the caches and every node, each node is told at runtime to
 * announce its proxy's port (`cluster-announce-port`), so the slot map every
 * client reads names the proxies; the cluster bus still runs direct. B's
 * subscriber connections are then made deaf while they stay open: B must stop
 * serving its copy once its probe goes unheard, and hear invalidations again.
 */
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../../infra/redis-cluster.js';
import { ContentType } from '../../sdk/index.js';
import { testCaches, type TestCaches } from '../helpers/cache.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const T = ContentType.CONFIGURATION;

let cluster: RedisCluster;
const proxies: TcpProxy[] = [];
let caches: TestCaches;

/** The ports a node's CLUSTER SLOTS names. */
async function slotPorts(port: number): Promise<number[]> {
  const node = new Redis(port, '127.0.0.1');
  try {
    const slots = (await node.call('CLUSTER', 'SLOTS')) as [number, number, ...[string, number][]][];
    return slots.flatMap(([, , ...owners]) => owners.map(([, p]) => p));
  } finally {
    node.disconnect();
  }
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  const ports = cluster.nodes.map((n) => Number(n.split(':')[1]));
  for (const port of ports) {
    const proxy = await startTcpProxy(port);
    proxies.push(proxy);
    const node = new Redis(port, '127.0.0.1');
    await node.config('SET', 'cluster-announce-port', String(proxy.port));
    node.disconnect();
  }
  const announced = new Set(proxies.map((p) => p.port));
  await vi.waitFor(async () => {
    for (const port of ports) expect((await slotPorts(port)).every((p) => announced.has(p))).toBe(true);
  }, { timeout: 10_000, interval: 100 });
  caches = await testCaches({ l2ClusterNodes: proxies.map((p) => `redis://127.0.0.1:${p.port}`) });
}, 60_000);

afterAll(async () => {
  await caches?.closeAll();
  await cluster?.stop();
  for (const proxy of proxies) await proxy.close();
});

describe('the invalidation bus hears itself on a Redis Cluster', () => {
  it('sharded subscribers deaf on open connections are found out by the probe: B drops what it held, then hears again', async () => {
    const b = await caches.make();
    await b.set('bedtime', '20:00', T);
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ value: '20:00', source: 'l1' });

    // B's sharded subscribers (one connection per master) stay up and hear nothing from now on.
    // A comes after, so its own subscribers are not touched.
    expect(proxies.reduce((n, p) => n + p.deafen('SSUBSCRIBE'), 0)).toBe(3);
    const a = await caches.make({ asyncWriteEnabled: false });
    await a.set('bedtime', '21:00', T); // an invalidation B never receives
    await sleep(100);
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ value: '20:00', source: 'l1' }); // its copy, for now

    await vi.waitFor(async () => expect(await b.get('bedtime', T)).toBe('21:00'), { timeout: 10_000, interval: 50 });
    expect(caches.warnings).toContain('invalidation bus did not hear its own probe: reconnecting its subscriber');

    // Its new subscriber connections hear A's next invalidation.
    await a.set('bedtime', '22:00', T);
    await vi.waitFor(async () => expect(await b.get('bedtime', T)).toBe('22:00'), { timeout: 3000, interval: 20 });
  });
});

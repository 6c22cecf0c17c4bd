/**
 * A subscriber that goes deaf with its connection open: no 'close' says so,
 * so only the bus's probe to itself can find out (sdk/invalidation-bus.ts).
 * Through a real TCP proxy in front of a real Redis, B's subscriber
 * connection stops receiving while it stays up; an invalidation A publishes
 * then never reaches B, and B must stop serving what it held once its probe
 * goes unheard, and hear invalidations again on a new connection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContentType } from '../../sdk/index.js';
import { testCaches, type TestCaches } from '../helpers/cache.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const T = ContentType.CONFIGURATION;

let redis: RedisHandle;
let proxy: TcpProxy;
let direct: TestCaches;
let proxied: TestCaches;
beforeAll(async () => {
  redis = await startRedis();
  proxy = await startTcpProxy(redis.port);
  direct = await testCaches({ l2RedisUrl: redis.url });
  proxied = await testCaches({ l2RedisUrl: `redis://127.0.0.1:${proxy.port}` });
});
afterAll(async () => {
  await proxied?.closeAll();
  await direct?.closeAll();
  await proxy?.close();
  await redis?.stop();
});

describe('the invalidation bus hears itself', () => {
  it('a subscriber deaf on an open connection is found out by its probe: B drops what it held, then hears again', async () => {
    // A's writes are awaited (announcement included), so nothing of A's is still on its way to B
    // once B's copy is filled below.
    const a = await direct.make({ asyncWriteEnabled: false });
    const b = await proxied.make();
    await a.set('bedtime', '20:00', T);
    await sleep(100);
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ value: '20:00', source: 'l2' });
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ source: 'l1' });

    expect(proxy.deafen('SSUBSCRIBE')).toBe(1); // B's subscriber: up, and hearing nothing from now on
    await a.set('bedtime', '21:00', T); // an invalidation B never receives
    await sleep(100);
    expect(await b.fetch('bedtime', T, () => 'unused')).toMatchObject({ value: '20:00', source: 'l1' }); // its copy, for now
    // Within a few seconds (a probe unheard for 3 s) B finds out, drops its L1 and reconnects its subscriber.
    await vi.waitFor(async () => expect(await b.get('bedtime', T)).toBe('21:00'), { timeout: 8000, interval: 50 });
    expect(proxied.warnings).toContain('invalidation bus did not hear its own probe: reconnecting its subscriber');

    // The new subscriber connection hears A's next invalidation.
    await a.set('bedtime', '22:00', T);
    await vi.waitFor(async () => expect(await b.get('bedtime', T)).toBe('22:00'), { timeout: 2000, interval: 20 });
    expect(direct.warnings.filter((w) => w.includes('probe'))).toEqual([]); // an instance that hears itself never says so
  });
});

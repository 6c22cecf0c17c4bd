/**
 * Control requests between gateway processes over a real Redis. Pub/sub delivers at most once:
 * a request that never reached a gateway is sent again, halfway through the wait, to that
 * gateway's own channel, and its one reply counts once. A bus that stopped hearing its channels
 * finds out by the probe it sends itself, and subscribes again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlBus, type ControlBus } from '../../gateway/control-bus.js';
import { fleetKeys } from '../../gateway/fleet-keys.js';
import { connectFleetRedis, type FleetRedis } from '../../gateway/fleet-redis.js';
import { testPrefix } from '../helpers/fleet.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

let redis: RedisHandle;
const opened: FleetRedis[] = [];
const log = pino({ level: 'silent' });

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
  await redis?.stop();
});

async function bus(keys: ReturnType<typeof fleetKeys>): Promise<{ bus: ControlBus; redis: FleetRedis }> {
  const r = connectFleetRedis({ endpoints: { mode: 'single', url: redis.url, tls: false }, label: 'test' }, log);
  opened.push(r);
  expect(await r.ready(5000)).toBe(true);
  const b = startControlBus(r, keys, log);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    b.subscribed(),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('control bus not subscribed within 10 s')), 10_000))),
  ]);
  clearTimeout(timer);
  return { bus: b, redis: r };
}

/** Two gateways' buses on one fleet (keys of their own, so tests do not hear each other). */
async function twoGateways() {
  const keys = fleetKeys(testPrefix());
  return { keys, a: await bus(keys), b: await bus(keys) };
}

describe('control requests', () => {
  it('reach a gateway that missed the broadcast, and count its reply once', async () => {
    const { keys, a, b } = await twoGateways();
    let calls = 0;
    b.bus.on('ping', () => ({ n: ++calls }));
    // b stops hearing the broadcast channel: the broadcast is lost for it, as a dropped delivery would be.
    await b.redis.subscriber.unsubscribe(keys.broadcast);
    const t0 = Date.now();
    const replies = await a.bus.request('all', 'ping', {}, [b.bus.instanceId], 2000);
    expect(replies).toEqual([{ from: b.bus.instanceId, body: { n: 1 } }]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950); // answered after the resend, halfway
    expect(calls).toBe(1);
  });

  it('a gateway that answered the first time is not asked again', async () => {
    const { a, b } = await twoGateways();
    let calls = 0;
    b.bus.on('ping', () => ({ n: ++calls }));
    expect(await a.bus.request('all', 'ping', {}, [b.bus.instanceId], 2000)).toHaveLength(1);
    await sleep(1200); // past the resend it would have had
    expect(calls).toBe(1);
  });

  it('a bus that lost its subscriptions notices by its own probe and hears its channels again', async () => {
    const { a, b } = await twoGateways();
    a.bus.on('ping', () => 'pong');
    await a.redis.subscriber.unsubscribe(); // deaf to everything, as a subscriber seen holding nothing
    expect(await b.bus.request({ instance: a.bus.instanceId }, 'ping', {}, [a.bus.instanceId], 500)).toEqual([]);
    await sleep(4500); // one probe goes unheard, the next one subscribes again
    expect(await b.bus.request('all', 'ping', {}, [a.bus.instanceId], 2000)).toEqual([{ from: a.bus.instanceId, body: 'pong' }]);
  });
});

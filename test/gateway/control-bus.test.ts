/**
 * Control requests between gateway processes over a real Redis. Pub/sub delivers at most once:
 * a request that never reached a gateway is sent again, halfway through the wait, to that
 * gateway's own channel, and its one reply counts once.
 */
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
  // Its subscriptions are in place once Redis counts a subscriber on its own channel.
  for (const own = keys.instance(b.instanceId); ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const [, count] = (await r.client.call('PUBSUB', 'NUMSUB', own)) as [string, number];
    if (Number(count) > 0) break;
  }
  return { bus: b, redis: r };
}

describe('control requests', () => {
  it('reach a gateway that missed the broadcast, and count its reply once', async () => {
    const keys = fleetKeys(testPrefix());
    const a = await bus(keys);
    const b = await bus(keys);
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
    const keys = fleetKeys(testPrefix());
    const a = await bus(keys);
    const b = await bus(keys);
    let calls = 0;
    b.bus.on('ping', () => ({ n: ++calls }));
    expect(await a.bus.request('all', 'ping', {}, [b.bus.instanceId], 2000)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past the resend it would have had
    expect(calls).toBe(1);
  });
});

/** The fleet's Redis-backed pieces for tests: a registry on a real Redis, under its own key prefix. */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { publishControl } from '../../gateway/control-bus.js';
import { createDeviceRegistry, type FleetDeviceRegistry } from '../../gateway/device-registry.js';
import { fleetKeys, type FleetKeys } from '../../gateway/fleet-keys.js';
import { connectFleetRedis, type FleetRedis } from '../../gateway/fleet-redis.js';

export interface TestRegistry {
  readonly registry: FleetDeviceRegistry;
  readonly redis: FleetRedis;
  readonly keys: FleetKeys;
  close(): Promise<void>;
}

export const testPrefix = (): string => `t${randomBytes(4).toString('hex')}:`;

/** A registry as a gateway or the CLI opens it, on `url`, keys under `prefix`. */
export async function openTestRegistry(url: string, prefix = testPrefix()): Promise<TestRegistry> {
  const redis = connectFleetRedis({ endpoints: { mode: 'single', url, tls: false }, label: url }, pino({ level: 'silent' }));
  if (!(await redis.ready(5000))) throw new Error(`no Redis at ${url}`);
  const keys = fleetKeys(prefix);
  const registry = createDeviceRegistry({
    client: redis.client,
    keys,
    announce: (change) => publishControl(redis.client, keys.broadcast, { kind: 'device', from: 'test', body: change }),
  });
  return { registry, redis, keys, close: () => redis.close() };
}

/**
 * The fleet state one gateway process shares with every other through the
 * fleet's Redis: the device registry, the clip catalog and its popularity,
 * each bear's history and warm sequence, who is connected where, the live
 * gateways, and the control channel between them. Requests read only
 * process memory; what changed is written behind, every WRITE_BEHIND_MS, in
 * batches (auto-pipelined), and what other gateways wrote is read back in
 * the same loop. close() writes the last batch.
 */
import type { Logger } from 'pino';
import { createBearSessions, type FleetBearSessions } from './bear-sessions.js';
import { createBearStore, writeBearChanges } from './bear-sessions-sync.js';
import { createTakeover, type Takeover } from './bear-takeover.js';
import { createCatalogSync } from './clip-catalog-sync.js';
import { createClipCatalog, type FleetClipCatalog } from './clip-catalog.js';
import { startControlBus, type ControlBus } from './control-bus.js';
import { createDeviceRegistry, type DeviceChange, type FleetDeviceRegistry } from './device-registry.js';
import { migrateDeviceFile } from './device-file-migration.js';
import { fleetKeys, type FleetKeys } from './fleet-keys.js';
import { startFleetPresence, type FleetPresence } from './fleet-presence.js';
import { connectFleetRedis, type FleetRedis, type FleetRedisTarget } from './fleet-redis.js';
import { withFleetScripts } from './fleet-scripts.js';
import { createTextCipher } from './fleet-text-cipher.js';

export const WRITE_BEHIND_MS = 1000;
const CONNECT_WAIT_MS = 5000;
const MAX_CLIPS = 50_000;

export interface FleetState {
  readonly redis: FleetRedis;
  readonly keys: FleetKeys;
  readonly registry: FleetDeviceRegistry;
  readonly catalog: FleetClipCatalog;
  readonly sessions: FleetBearSessions;
  readonly control: ControlBus;
  readonly presence: FleetPresence;
  readonly takeover: Takeover;
  /** Writes the last batch, then leaves the fleet. */
  close(): Promise<void>;
}

export interface FleetStateOptions {
  target: FleetRedisTarget;
  /** The SDK's key prefix: fleet keys live next to the cache's. */
  prefix: string;
  urlKey: string;
  /** The data dir whose devices.json (if any) is migrated. */
  dataDir: string;
  log: Logger;
  /** What this gateway tells the others about itself (presence). */
  describe(): { mqttUrl: string; httpUrl: string; bears: number; requests: number };
  /** Closes a local connection of the bear if it began before `before`. */
  closeLocal(deviceId: string, before: number): boolean;
  /** A device was removed (anywhere): disconnect it here. */
  onDeviceRemoved(deviceId: string): void;
}

export async function startFleetState(o: FleetStateOptions): Promise<FleetState> {
  const keys = fleetKeys(o.prefix);
  const redis = connectFleetRedis(o.target, o.log);
  const client = withFleetScripts(redis.client);
  const reachable = await redis.ready(CONNECT_WAIT_MS);
  const control = startControlBus(redis, keys, o.log);
  const registry = createDeviceRegistry({ client, keys, announce: (change) => control.broadcast('device', change) });
  control.on('device', (body) => {
    const change = body as Partial<DeviceChange>;
    if (typeof change?.deviceId !== 'string') return;
    registry.forget(change.deviceId);
    if (change.removed) o.onDeviceRemoved(change.deviceId);
  });
  const catalog = createClipCatalog(MAX_CLIPS);
  const catalogSync = createCatalogSync({ client, keys, catalog, cipher: createTextCipher(o.urlKey), log: o.log, maxClips: MAX_CLIPS });
  const sessions = createBearSessions(createBearStore(client, keys, o.log));
  const takeover = createTakeover({ client, keys, control, log: o.log, closeLocal: o.closeLocal });
  const presence = startFleetPresence({ redis, keys, instanceId: control.instanceId, log: o.log, describe: o.describe });

  let migrated = false;
  const migrate = async (): Promise<void> => {
    if (migrated) return;
    const result = await migrateDeviceFile(o.dataDir, registry);
    migrated = true;
    if (result) o.log.warn(result, 'devices.json migrated into the fleet registry in Redis (file renamed, not deleted)');
  };
  let loaded = false;
  if (reachable) {
    await migrate();
    await catalogSync.load();
    loaded = true;
  }

  const sync = async (): Promise<void> => {
    if (!redis.up) return;
    if (!migrated) await migrate();
    if (!loaded) {
      await catalogSync.load();
      loaded = true;
    }
    await catalogSync.write();
    const failed = await writeBearChanges(client, keys, sessions);
    if (failed) o.log.debug({ bears: failed }, 'bear state not written; retried with the next batch');
    await catalogSync.read();
  };

  // One batch at a time: the loop's and the last one (close) queue behind each other.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (): Promise<void> => {
    const run = queue.then(sync);
    queue = run.catch((err: Error) => o.log.debug({ err: err.message }, 'fleet state batch not written; retried'));
    return run;
  };
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = (): void => {
    timer = setTimeout(() => {
      enqueue().catch(() => undefined).finally(() => closed || loop());
    }, WRITE_BEHIND_MS);
    timer.unref();
  };
  loop();

  return {
    redis, keys, registry, catalog, sessions, control, presence, takeover,
    async close() {
      closed = true;
      clearTimeout(timer);
      await enqueue().catch((err: Error) => o.log.warn({ err: err.message }, 'last fleet state batch not written'));
      await takeover.drained(); // the claims of the bears that just disconnected are released
      await presence.close();
      await control.close();
      await redis.close();
    },
  };
}

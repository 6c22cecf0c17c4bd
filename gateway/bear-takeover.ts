/**
 * MQTT's rule that a client id has one connection, across gateway
 * processes: Aedes closes an older connection of the same id within one
 * process; across processes each bear's hash in Redis names the instance it
 * is connected to. A gateway that accepts a bear claims it (one script call
 * per CONNECT, never per request) and, if another instance held it, tells
 * that one (control message `takeover`), which closes its connection if it
 * is older than the new one. A disconnect releases the claim if it is still
 * this instance's. A claim left by a killed process is simply overwritten.
 * Claims and releases are queued in order and written a chunk at a time
 * (./fleet-write-queue.ts): connect and disconnect storms come by the thousand.
 */
import type { Logger } from 'pino';
import { BEAR_TTL_MS } from './bear-sessions-sync.js';
import type { ControlBus } from './control-bus.js';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetClient } from './fleet-redis.js';
import type { FleetScripts } from './fleet-scripts.js';
import { createWriteQueue } from './fleet-write-queue.js';

export interface Takeover {
  /** A bear connected here at `at` (ms since the epoch). */
  connected(deviceId: string, at: number): void;
  disconnected(deviceId: string): void;
  /** The instance a bear is connected to, as Redis knows it. */
  ownerOf(deviceId: string): Promise<string | undefined>;
  /** Resolves once the claims and releases queued so far are written. */
  drained(): Promise<void>;
}

export interface TakeoverOptions {
  client: FleetClient & FleetScripts;
  keys: FleetKeys;
  control: ControlBus;
  log: Logger;
  /** Closes this process's connection of the bear if it began before `before`; true if one was closed. */
  closeLocal(deviceId: string, before: number): boolean;
}

interface TakeoverMessage {
  deviceId: string;
  at: number;
}

/** A claim (`at` set) or a release, queued in order: a bear's release never overtakes its claim. */
interface ClaimChange {
  deviceId: string;
  at?: number;
}

export function createTakeover({ client, keys, control, log, closeLocal }: TakeoverOptions): Takeover {
  const me = control.instanceId;
  const claim = async (deviceId: string, at: number): Promise<void> => {
    const previous = await client.teddyClaimBear(keys.bear(deviceId), me, at, BEAR_TTL_MS);
    if (previous && previous !== me) await control.send(previous, 'takeover', { deviceId, at } satisfies TakeoverMessage);
  };
  // Connect and disconnect storms (thousands of bears at once) go to Redis a chunk at a time.
  const changes = createWriteQueue<ClaimChange>(({ deviceId, at }) =>
    (at === undefined ? client.teddyReleaseBear(keys.bear(deviceId), me) : claim(deviceId, at)).catch((err: Error) =>
      log.debug({ deviceId, err: err.message }, 'bear claim not recorded (Redis away?)'),
    ),
  );
  control.on('takeover', (body) => {
    const m = body as Partial<TakeoverMessage>;
    if (typeof m?.deviceId !== 'string' || typeof m.at !== 'number') return;
    if (closeLocal(m.deviceId, m.at)) log.info({ deviceId: m.deviceId }, 'bear connected to another gateway: older connection closed');
  });
  return {
    connected: (deviceId, at) => changes.push({ deviceId, at }),
    disconnected: (deviceId) => changes.push({ deviceId }),
    drained: () => changes.drained(),
    async ownerOf(deviceId) {
      return (await client.hget(keys.bear(deviceId), 'owner')) ?? undefined;
    },
  };
}

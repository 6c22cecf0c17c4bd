/**
 * MQTT's rule that a client id has one connection, across gateway
 * processes: Aedes closes an older connection of the same id within one
 * process; across processes each bear's hash in Redis names the instance it
 * is connected to. A gateway that accepts a bear claims it (one script call
 * per CONNECT, never per request) and, if another instance held it, tells
 * that one (control message `takeover`), which closes its connection if it
 * is older than the new one. A disconnect releases the claim if it is still
 * this instance's. A claim left by a killed process is simply overwritten.
 */
import type { Logger } from 'pino';
import { BEAR_TTL_MS } from './bear-sessions-sync.js';
import type { ControlBus } from './control-bus.js';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetClient } from './fleet-redis.js';
import type { FleetScripts } from './fleet-scripts.js';

export interface Takeover {
  /** A bear connected here at `at` (ms since the epoch). */
  connected(deviceId: string, at: number): void;
  disconnected(deviceId: string): void;
  /** The instance a bear is connected to, as Redis knows it. */
  ownerOf(deviceId: string): Promise<string | undefined>;
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

export function createTakeover({ client, keys, control, log, closeLocal }: TakeoverOptions): Takeover {
  const me = control.instanceId;
  control.on('takeover', (body) => {
    const m = body as Partial<TakeoverMessage>;
    if (typeof m?.deviceId !== 'string' || typeof m.at !== 'number') return;
    if (closeLocal(m.deviceId, m.at)) log.info({ deviceId: m.deviceId }, 'bear connected to another gateway: older connection closed');
  });
  return {
    connected(deviceId, at) {
      client
        .teddyClaimBear(keys.bear(deviceId), me, at, BEAR_TTL_MS)
        .then((previous) => {
          if (previous && previous !== me) return control.send(previous, 'takeover', { deviceId, at } satisfies TakeoverMessage);
        })
        .catch((err: Error) => log.debug({ deviceId, err: err.message }, 'takeover claim not recorded (Redis away?)'));
    },
    disconnected(deviceId) {
      client.teddyReleaseBear(keys.bear(deviceId), me).catch(() => undefined);
    },
    async ownerOf(deviceId) {
      return (await client.hget(keys.bear(deviceId), 'owner')) ?? undefined;
    },
  };
}

/**
 * Each bear's fleet-wide state in Redis (./fleet-keys.ts: a hash with its
 * warm sequence and plan digest, and a hash of its history): read once at
 * hello — two commands on one slot, auto-pipelined into one round trip — and
 * written from the batches ./bear-sessions.ts collects, one script call per
 * bear that changed (./fleet-scripts.ts), which also bounds the history and
 * lets a bear's state expire after BEAR_TTL_MS without a hello.
 */
import type { Logger } from 'pino';
import { MAX_HISTORY, type BearStore, type FleetBearSessions, type StoredBear } from './bear-sessions.js';
import type { FleetKeys } from './fleet-keys.js';
import { inChunks } from './fleet-write-queue.js';
import type { FleetClient } from './fleet-redis.js';
import type { FleetScripts } from './fleet-scripts.js';

/** A bear unheard of for this long is forgotten by the fleet (it starts over: starters, then popularity). */
export const BEAR_TTL_MS = 90 * 24 * 3600 * 1000;

export function createBearStore(client: FleetClient, keys: FleetKeys, log: Logger): BearStore {
  return {
    async load(deviceId) {
      try {
        const [[seq, sig], history] = await Promise.all([
          client.hmget(keys.bear(deviceId), 'seq', 'sig'),
          client.hgetall(keys.history(deviceId)),
        ]);
        const stored: StoredBear = {
          planSeq: Number(seq ?? 0) || 0,
          planSignature: sig ?? '',
          history: new Map(Object.entries(history).map(([id, n]) => [id, Number(n) || 0])),
        };
        return stored;
      } catch (err) {
        log.debug({ deviceId, err: (err as Error).message }, 'bear state not read from the fleet Redis; going on with what this gateway holds');
        return undefined;
      }
    },
    // Two keys of one slot (the bear's hash tag): one command.
    erase: (deviceId) => client.del(keys.bear(deviceId), keys.history(deviceId)),
  };
}

/**
 * Writes the sessions' changes (a chunk of bears per round trip: a fleet-wide warm push changes
 * every bear at once); those that fail are put back for the next batch. Resolves to how many failed.
 */
export async function writeBearChanges(client: FleetClient & FleetScripts, keys: FleetKeys, sessions: FleetBearSessions): Promise<number> {
  const changes = sessions.takeChanges();
  const results = await inChunks(changes, (c) =>
    client.teddyRecordBear(keys.history(c.deviceId), keys.bear(c.deviceId), MAX_HISTORY, BEAR_TTL_MS, c.planSeq, c.planSignature, ...[...c.plays].flat()),
  );
  const failed = changes.filter((_, i) => results[i]!.status === 'rejected');
  sessions.restore(failed);
  return failed.length;
}

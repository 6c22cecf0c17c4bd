/**
 * Erasing a bear (COPPA, GDPR-K right to erasure): everything derived from
 * its input, from every layer, on every gateway —
 *   cache        what the SDK indexed under the bear as subject (its
 *                transcriptions, emotion analyses, answers and voice clips
 *                nobody else used): L2, every instance's L1 (the bus), L3
 *                refs and blobs (sdk/subject-index.ts)
 *   clips        catalog entries of clips in its history whose audio left
 *                the cache with it (the fleet's Redis, every gateway's copy)
 *   bear state   its warm sequence, plan, history and presence (Redis), and
 *                what each gateway process holds of it (control message)
 *   device       its registry record (secret hash, pinned certificate): it is
 *                disconnected everywhere and refused from now on
 *   files        its certificate files and its entry in an old devices.json
 * Answers to common phrases other bears used too stay: they carry nothing of
 * this one. Redis's own files keep deleted data until rewritten, so every
 * Redis holding it, replicas included, is asked to rewrite its append-only
 * file and snapshot (./redis-compaction.ts).
 *
 * Both the gateway (admin API) and the CLI (`erase`, running gateway or
 * not) use this; the caller writes the audit line.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../infra/atomic-file.js';
import { isValidDeviceId } from '../protocol/index.js';
import { ContentType, voiceSynthesisKey, type MultiLayerCache, type SubjectErasure } from '../sdk/index.js';
import type { BearStore } from './bear-sessions.js';
import type { DeviceRegistry } from './device-registry.js';
import { REGISTRY_FILE } from './device-file-migration.js';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetClient } from './fleet-redis.js';
import { WRITE_BEHIND_MS } from './fleet-state.js';
import type { TextCipher } from './fleet-text-cipher.js';
import { compactRedis } from './redis-compaction.js';
import { DEVICE_CERT_DIR } from './tls-certificates.js';

/** What one erasure removed, per layer. */
export interface EraseReport {
  readonly deviceId: string;
  /** Anything of the bear was found (and removed). */
  readonly found: boolean;
  readonly cache: SubjectErasure;
  /** Catalog entries of clips only this bear's answers made. */
  readonly clips: number;
  /** Redis keys of its warm sequence, plan and history. */
  readonly bearState: number;
  /** Its registry record (secret hash, pinned certificate). */
  readonly device: boolean;
  /** Certificate files and old registry entries in the data dir. */
  readonly files: number;
}

/** The id is not a device id at all (the caller refuses it before anything is touched). */
export class InvalidDeviceIdError extends Error {
  override readonly name = 'InvalidDeviceIdError';
  constructor() {
    super('device id must be 1-64 characters of [A-Za-z0-9_-]');
  }
}

export interface EraserOptions {
  cache: MultiLayerCache;
  client: FleetClient;
  keys: FleetKeys;
  registry: DeviceRegistry;
  store: BearStore;
  /** Opens the catalog's sealed lines; without it (no URL key at hand) clips are left to expire. */
  cipher: TextCipher | undefined;
  dataDir: string;
  log: Logger;
  /** Tells every gateway process, this one included, to forget the bear and these clips and to disconnect it. */
  forgetEverywhere(deviceId: string, clipIds: readonly string[]): Promise<void>;
}

/** Clip log entries scanned for an erased clip at most (the log is capped near this). */
const CLIP_LOG_SCAN = 20_000;

export function createEraser(o: EraserOptions) {
  const clipLine = async (clipIdHex: string): Promise<{ text: string; voice: string; starter: boolean } | undefined> => {
    const meta = await o.client.hget(o.keys.clips, clipIdHex);
    if (!meta || !o.cipher) return undefined;
    try {
      const m = JSON.parse(meta) as { t: string; v: string; st?: 1 };
      return { text: o.cipher.open(m.t, clipIdHex), voice: m.v, starter: m.st === 1 };
    } catch {
      return undefined;
    }
  };

  /** Of the clips in the bear's history, those whose audio the cache no longer holds (it went with the bear). */
  const clipsGone = async (clipIds: readonly string[]): Promise<string[]> => {
    const gone: string[] = [];
    for (const id of clipIds) {
      const line = await clipLine(id);
      if (!line || line.starter) continue;
      const held = await o.cache.get(voiceSynthesisKey(line.text, line.voice), ContentType.VOICE_SYNTHESIS, { skipL1: true });
      if (held === undefined) gone.push(id);
    }
    return gone;
  };

  const eraseClips = async (clipIds: readonly string[]): Promise<void> => {
    if (clipIds.length === 0) return;
    const ids = new Set(clipIds);
    const entries = (await o.client.xrevrange(o.keys.clipLog, '+', '-', 'COUNT', CLIP_LOG_SCAN)) as [string, string[]][];
    const logged = entries.filter(([, fields]) => ids.has(fields[fields.indexOf('id') + 1] ?? '')).map(([entryId]) => entryId);
    await Promise.all([
      o.client.hdel(o.keys.clips, ...clipIds),
      o.client.zrem(o.keys.popularity, ...clipIds),
      logged.length ? o.client.xdel(o.keys.clipLog, ...logged) : undefined,
    ]);
  };

  /** Certificate files `device add --cert` wrote by default, and the bear's entry in devices.json and its migrated copies. */
  const eraseFiles = async (deviceId: string): Promise<number> => {
    let removed = 0;
    for (const name of [`${deviceId}.pem`, `${deviceId}-key.pem`]) {
      const path = join(o.dataDir, DEVICE_CERT_DIR, name);
      if (await rm(path).then(() => true, () => false)) removed++;
    }
    for (const name of await readdir(o.dataDir).catch(() => [] as string[])) {
      if (!name.startsWith(REGISTRY_FILE)) continue;
      const path = join(o.dataDir, name);
      try {
        const file = JSON.parse(await readFile(path, 'utf8')) as { devices?: Record<string, unknown> };
        if (!file.devices || !Object.hasOwn(file.devices, deviceId)) continue;
        delete file.devices[deviceId];
        await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
        removed++;
      } catch (err) {
        o.log.warn({ file: name, err: (err as Error).message }, 'erase: an old registry file could not be read; check it by hand');
      }
    }
    return removed;
  };

  return {
    async erase(deviceId: string): Promise<EraseReport> {
      if (!isValidDeviceId(deviceId)) throw new InvalidDeviceIdError();
      const history = Object.keys(await o.client.hgetall(o.keys.history(deviceId)));
      const device = await o.registry.remove(deviceId);
      const cache = await o.cache.eraseSubject(deviceId);
      const clips = await clipsGone(history);
      await eraseClips(clips);
      await o.forgetEverywhere(deviceId, clips);
      let bearState = await o.store.erase(deviceId);
      const files = await eraseFiles(deviceId);
      // A gateway's write-behind batch already on its way when it was told may land after the
      // delete above: wait out one round and delete again.
      await sleep(2 * WRITE_BEHIND_MS);
      bearState += await o.store.erase(deviceId);
      await compactRedis(o.client, o.log);
      const found = device || cache.l2 + cache.l3Refs + cache.l3Blobs + cache.shared > 0 || clips.length + bearState + files > 0 || history.length > 0;
      o.log.info({ deviceId, found, cache, clips: clips.length, bearState, device, files }, 'device erased');
      return { deviceId, found, cache, clips: clips.length, bearState, device, files };
    },
  };
}
export type Eraser = ReturnType<typeof createEraser>;

/** The report as the CLI prints it, one line per layer. */
export function describeErasure(r: EraseReport): string {
  const c = r.cache;
  return [
    `erased ${r.deviceId}${r.found ? '' : ': nothing of it was found'}`,
    `  L1     ${c.l1} in this process; every gateway's copy dropped through the invalidation bus`,
    `  L2     ${c.l2} values (${c.shared} kept: other bears used them too)`,
    `  L3     ${c.l3Refs} refs, ${c.l3Blobs} blobs`,
    `  clips  ${r.clips} catalog entries`,
    `  bear   ${r.bearState} keys of warm state, plan and history; every gateway told to forget it`,
    `  device ${r.device ? 'record and credentials removed' : 'no registry record'}`,
    `  files  ${r.files} in the data dir`,
  ].join('\n');
}

/**
 * Keeps this process's clip catalog (./clip-catalog.ts) one with the fleet's,
 * in the fleet's Redis, without a Redis call on any request:
 *   write — new clips (hash `clips`, plus an entry on the capped stream
 *           `clip-log`) and play counts (ZINCRBY on `popularity`), batched;
 *   read  — what other gateways catalogued, read off `clip-log` from where
 *           this process left off (a stream, so a gateway that was away
 *           misses nothing still in it), and every few reads the fleet's
 *           most played clips with their counts;
 *   prune — keeps the fleet's catalog within `maxClips`.
 * The line each clip speaks is stored sealed (./fleet-text-cipher.ts).
 * A failed write is put back and retried on the next batch.
 */
import type { Logger } from 'pino';
import type { FleetClipCatalog, NewClip } from './clip-catalog.js';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetClient } from './fleet-redis.js';
import type { FleetScripts } from './fleet-scripts.js';
import type { TextCipher } from './fleet-text-cipher.js';

/** The clip log keeps about this many entries (MAXLEN ~). */
const LOG_LENGTH = 10_000;
/** Most played clips read back per popularity refresh: more than any manifest lists. */
const TOP_CLIPS = 2048;
const READS_PER_POPULARITY = 5;
const READS_PER_PRUNE = 60;
const LOG_BATCH = 1000;

interface StoredMeta {
  s: string;
  z: number;
  c: number;
  t: string;
  v: string;
  st?: 1;
}

export interface CatalogSync {
  /** Reads the fleet's catalog once at start (the log, then the most played clips). */
  load(): Promise<void>;
  write(): Promise<void>;
  read(): Promise<void>;
}

export interface CatalogSyncOptions {
  client: FleetClient & FleetScripts;
  keys: FleetKeys;
  catalog: FleetClipCatalog;
  cipher: TextCipher;
  log: Logger;
  maxClips: number;
}

export function createCatalogSync({ client, keys, catalog, cipher, log, maxClips }: CatalogSyncOptions): CatalogSync {
  let lastLogId = '0';
  let reads = 0;

  const encode = (c: NewClip & { clipIdHex: string }): string =>
    JSON.stringify({ s: c.sha256, z: c.size, c: c.codec, t: cipher.seal(c.text, c.clipIdHex), v: c.voice, ...(c.starter ? { st: 1 } : {}) } satisfies StoredMeta);

  const decode = (clipIdHex: string, text: string): NewClip | undefined => {
    try {
      const m = JSON.parse(text) as StoredMeta;
      if (!/^[0-9a-f]{16}$/.test(clipIdHex) || !/^[0-9a-f]{64}$/.test(m.s) || !Number.isInteger(m.z) || !Number.isInteger(m.c)) return undefined;
      return { clipId: Buffer.from(clipIdHex, 'hex'), sha256: m.s, size: m.z, codec: m.c, text: cipher.open(m.t, clipIdHex), voice: m.v, starter: m.st === 1 };
    } catch {
      return undefined;
    }
  };

  const learnEntries = (entries: [string, string[]][]): void => {
    let refused = 0;
    for (const [id, fields] of entries) {
      lastLogId = id;
      const clipIdHex = fields[fields.indexOf('id') + 1] ?? '';
      const clip = decode(clipIdHex, fields[fields.indexOf('m') + 1] ?? '');
      if (clip) catalog.learn(clip);
      else refused++;
    }
    // A clip sealed under another URL key is another fleet's (or a misconfigured gateway's).
    if (refused) log.warn({ refused }, 'clip log entries not readable (another TEDDY_URL_KEY?) skipped');
  };

  const refreshPopularity = async (): Promise<void> => {
    const flat = await client.zrevrange(keys.popularity, 0, TOP_CLIPS - 1, 'WITHSCORES');
    const plays = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) plays.set(flat[i]!, Number(flat[i + 1]));
    const unknown = [...plays.keys()].filter((id) => !catalog.get(id));
    if (unknown.length) {
      const metas = await client.hmget(keys.clips, ...unknown);
      unknown.forEach((id, i) => {
        const clip = metas[i] ? decode(id, metas[i]!) : undefined;
        if (clip) catalog.learn(clip);
      });
    }
    catalog.applyFleetPlays(plays);
  };

  return {
    async load() {
      for (;;) {
        const entries = (await client.xrange(keys.clipLog, lastLogId === '0' ? '-' : `(${lastLogId}`, '+', 'COUNT', LOG_BATCH)) as [string, string[]][];
        learnEntries(entries);
        if (entries.length < LOG_BATCH) break;
      }
      await refreshPopularity();
    },

    async write() {
      const changes = catalog.takeChanges();
      if (changes.clips.length === 0 && changes.plays.size === 0) return;
      try {
        await Promise.all([
          ...changes.clips.flatMap((c) => {
            const meta = encode(c);
            return [
              client.hset(keys.clips, c.clipIdHex, meta),
              client.zadd(keys.popularity, 'NX', 0, c.clipIdHex),
              client.xadd(keys.clipLog, 'MAXLEN', '~', LOG_LENGTH, '*', 'id', c.clipIdHex, 'm', meta),
            ];
          }),
          ...[...changes.plays].map(([id, n]) => client.zincrby(keys.popularity, n, id)),
        ]);
      } catch (err) {
        catalog.restore(changes);
        throw err;
      }
    },

    async read() {
      const streams = (await client.xread('COUNT', LOG_BATCH, 'STREAMS', keys.clipLog, lastLogId)) as [string, [string, string[]][]][] | null;
      if (streams?.[0]) learnEntries(streams[0][1]);
      reads++;
      if (reads % READS_PER_POPULARITY === 0) await refreshPopularity();
      if (reads % READS_PER_PRUNE === 0) await client.teddyPruneClips(keys.popularity, keys.clips, maxClips);
    },
  };
}

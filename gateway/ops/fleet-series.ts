/**
 * The fleet's time series in Redis: every gateway process writes its samples
 * and its status (alerts, advice, limits) next to the cache, on its own
 * connection to the cache's Redis, and any process can read everyone's back —
 * so a report, `health` or `top` covers the whole fleet, not the process that
 * was asked. It uses the fleet state's connection (../fleet-redis.ts) and
 * key names (../fleet-keys.ts). Bounded like the local series (fine and
 * coarse lists trimmed on every write, everything expiring 25 h after the
 * process's last write), all under one hash tag so a Redis Cluster keeps it
 * in one slot. Writes happen on the ops timer; a failed one is logged and
 * retried at the next sample, never waited for by a request. A whole-fleet
 * read (a report, on demand) goes over a short-lived copy of the connection
 * with a longer command timeout, in chunks: a busy process must not turn a
 * large reply into a timeout.
 */
import type { Advice } from '../../sdk/index.js';
import type { FleetKeys } from '../fleet-keys.js';
import { Cluster } from 'ioredis';
import type { FleetClient, FleetRedis } from '../fleet-redis.js';
import type { AlertNotice } from './alert-webhook.js';
import type { ActiveAlert } from './health-monitor.js';
import type { Sample } from './sample.js';
import { COARSE_CAPACITY } from './time-series.js';

const RETENTION_MS = 25 * 3_600_000;
/** Samples per LRANGE when reading a whole list. */
const READ_CHUNK = 100;
const BULK_COMMAND_TIMEOUT_MS = 10_000;

/**
 * A copy of the fleet connection for one bulk read, with a longer command timeout; the caller quits
 * it. Its commands wait for it to connect (the offline queue): on a cluster too, where the copy
 * has no slot map yet when the first command is sent (without the queue, every report there said
 * "Cluster isn't ready" and covered its own process only).
 */
function bulkConnection(client: FleetClient): FleetClient {
  if (client instanceof Cluster) {
    return client.duplicate([], { enableOfflineQueue: true, redisOptions: { ...client.options.redisOptions, commandTimeout: BULK_COMMAND_TIMEOUT_MS } });
  }
  return client.duplicate({ commandTimeout: BULK_COMMAND_TIMEOUT_MS, enableOfflineQueue: true });
}

export interface ProcessStatus {
  /** host:pid:start, unique per process run. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly lastSeenAt: number;
  /** Set when the process shut down cleanly (its samples still count in the windows). */
  readonly stoppedAt?: number;
  readonly httpUrl: string;
  readonly intervalMs: number;
  readonly firing: readonly ActiveAlert[];
  readonly recent: readonly AlertNotice[];
  readonly advice: readonly Advice[];
  readonly memoryLimitBytes: number;
  readonly l1MaxBytes: number;
}

export interface ProcessSeries {
  readonly status: ProcessStatus;
  /** Oldest first. */
  readonly fine: readonly Sample[];
  readonly coarse: readonly Sample[];
}

export interface FleetSeriesStore {
  /** Writes the newest sample (and the coarse record it completed) with the process's status. */
  publish(sample: Sample, coarse: Sample | undefined, status: ProcessStatus, fineCapacity: number): Promise<void>;
  /** Every process seen in the last 25 h, with its whole series. */
  readAll(): Promise<ProcessSeries[]>;
  /** Every process's status and newest sample only (for `top` and `health`, once a second). */
  readLatest(): Promise<{ status: ProcessStatus; latest: Sample | undefined }[]>;
  /** Marks this process stopped (its data stays for the windows). */
  markStopped(status: ProcessStatus): Promise<void>;
  readonly connected: boolean;
}

/** A process counts as live while its writes keep coming: three intervals and a little slack. */
export const isLive = (s: ProcessStatus, now: number): boolean => s.stoppedAt === undefined && now - s.lastSeenAt <= 3 * s.intervalMs + 2000;

export function createFleetSeriesStore(redis: FleetRedis, keys: FleetKeys): FleetSeriesStore {
  const { client } = redis;
  const k = keys.ops;
  const parse = <T>(raw: string | null | undefined): T | undefined => {
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined; // another version's record: skipped, never fatal
    }
  };
  const samples = (raw: readonly string[]): Sample[] => raw.map((x) => parse<Sample>(x)).filter((s): s is Sample => s !== undefined);
  /** A whole list, newest first as stored, one chunk after another. */
  const readList = async (c: FleetClient, key: string): Promise<string[]> => {
    const length = await c.llen(key);
    const out: string[] = [];
    for (let at = 0; at < length; at += READ_CHUNK) out.push(...(await c.lrange(key, at, at + READ_CHUNK - 1)));
    return out;
  };
  const liveIds = (c: FleetClient): Promise<string[]> => c.zrangebyscore(k.processes, Date.now() - RETENTION_MS, '+inf');

  return {
    async publish(sample, coarse, status, fineCapacity) {
      const id = status.id;
      const tx = client.multi()
        .lpush(k.fine(id), JSON.stringify(sample)).ltrim(k.fine(id), 0, fineCapacity - 1).pexpire(k.fine(id), RETENTION_MS)
        .set(k.status(id), JSON.stringify(status), 'PX', RETENTION_MS)
        .zadd(k.processes, status.lastSeenAt, id)
        .zremrangebyscore(k.processes, '-inf', Date.now() - RETENTION_MS);
      if (coarse) tx.lpush(k.coarse(id), JSON.stringify(coarse)).ltrim(k.coarse(id), 0, COARSE_CAPACITY - 1).pexpire(k.coarse(id), RETENTION_MS);
      await tx.exec();
    },
    async readAll() {
      if (!redis.up) throw new Error('the fleet Redis is not connected');
      const bulk = bulkConnection(client);
      bulk.on('error', () => undefined); // a failure surfaces as the read's rejection
      try {
        const ids = await liveIds(bulk);
        const all = await Promise.all(ids.map(async (id): Promise<ProcessSeries | undefined> => {
          const [raw, fine, coarse] = await Promise.all([bulk.get(k.status(id)), readList(bulk, k.fine(id)), readList(bulk, k.coarse(id))]);
          const status = parse<ProcessStatus>(raw);
          return status && { status, fine: samples(fine).reverse(), coarse: samples(coarse).reverse() };
        }));
        return all.filter((p): p is ProcessSeries => p !== undefined);
      } finally {
        await bulk.quit().catch(() => bulk.disconnect());
      }
    },
    async readLatest() {
      const ids = await liveIds(client);
      const all = await Promise.all(ids.map(async (id) => {
        const [raw, newest] = await Promise.all([client.get(k.status(id)), client.lindex(k.fine(id), 0)]);
        const status = parse<ProcessStatus>(raw);
        return status && { status, latest: parse<Sample>(newest) };
      }));
      return all.filter((p): p is { status: ProcessStatus; latest: Sample | undefined } => p !== undefined);
    },
    async markStopped(status) {
      await client.set(k.status(status.id), JSON.stringify(status), 'PX', RETENTION_MS);
    },
    get connected() {
      return redis.up;
    },
  };
}

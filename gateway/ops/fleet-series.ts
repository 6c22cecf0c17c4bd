/**
 * The fleet's time series in Redis: every gateway process writes its samples
 * and its status (alerts, advice, limits) next to the cache, on its own
 * connection to the cache's Redis, and any process can read everyone's back —
 * so a report, `health` or `top` covers the whole fleet, not the process that
 * was asked. Bounded like the local series (fine and coarse lists trimmed on
 * every write, everything expiring 25 h after the process's last write), all
 * under one hash tag so a Redis Cluster keeps it in one slot. Writes happen
 * on the ops timer; a failed one is counted and retried at the next sample,
 * never waited for by a request.
 */
import type { Advice, RedisClient } from '../../sdk/index.js';
import type { AlertNotice } from './alert-webhook.js';
import type { ActiveAlert } from './health-monitor.js';
import type { Sample } from './sample.js';
import { COARSE_CAPACITY } from './time-series.js';

const RETENTION_MS = 25 * 3_600_000;

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
  /** Marks this process stopped (its data stays for the windows) . */
  markStopped(status: ProcessStatus): Promise<void>;
  readonly connected: boolean;
  close(): Promise<void>;
}

/** A process counts as live while its writes keep coming: three intervals and a little slack. */
export const isLive = (s: ProcessStatus, now: number): boolean => s.stoppedAt === undefined && now - s.lastSeenAt <= 3 * s.intervalMs + 2000;

export function createFleetSeriesStore(redis: RedisClient, keyPrefix: string): FleetSeriesStore {
  const tag = `{${keyPrefix}ops}:v1`;
  const processes = `${tag}:processes`;
  const fineKey = (id: string) => `${tag}:fine:${id}`;
  const coarseKey = (id: string) => `${tag}:coarse:${id}`;
  const statusKey = (id: string) => `${tag}:status:${id}`;
  const parse = <T>(raw: string | null | undefined): T | undefined => {
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined; // another version's record: skipped, never fatal
    }
  };

  const liveIds = async (): Promise<string[]> => redis.zrangebyscore(processes, Date.now() - RETENTION_MS, '+inf');

  return {
    async publish(sample, coarse, status, fineCapacity) {
      const id = status.id;
      const tx = redis.multi()
        .lpush(fineKey(id), JSON.stringify(sample)).ltrim(fineKey(id), 0, fineCapacity - 1).pexpire(fineKey(id), RETENTION_MS)
        .set(statusKey(id), JSON.stringify(status), 'PX', RETENTION_MS)
        .zadd(processes, status.lastSeenAt, id)
        .zremrangebyscore(processes, '-inf', Date.now() - RETENTION_MS);
      if (coarse) tx.lpush(coarseKey(id), JSON.stringify(coarse)).ltrim(coarseKey(id), 0, COARSE_CAPACITY - 1).pexpire(coarseKey(id), RETENTION_MS);
      await tx.exec();
    },
    async readAll() {
      const ids = await liveIds();
      if (ids.length === 0) return [];
      const pipe = redis.pipeline();
      for (const id of ids) pipe.get(statusKey(id)).lrange(fineKey(id), 0, -1).lrange(coarseKey(id), 0, -1);
      const replies = (await pipe.exec()) ?? [];
      const out: ProcessSeries[] = [];
      ids.forEach((_id, i) => {
        const status = parse<ProcessStatus>(replies[3 * i]?.[1] as string | null);
        if (!status) return;
        const list = (r: unknown) => ((r as string[] | undefined) ?? []).map((x) => parse<Sample>(x)).filter((s): s is Sample => s !== undefined).reverse();
        out.push({ status, fine: list(replies[3 * i + 1]?.[1]), coarse: list(replies[3 * i + 2]?.[1]) });
      });
      return out;
    },
    async readLatest() {
      const ids = await liveIds();
      if (ids.length === 0) return [];
      const pipe = redis.pipeline();
      for (const id of ids) pipe.get(statusKey(id)).lindex(fineKey(id), 0);
      const replies = (await pipe.exec()) ?? [];
      return ids.flatMap((_id, i) => {
        const status = parse<ProcessStatus>(replies[2 * i]?.[1] as string | null);
        return status ? [{ status, latest: parse<Sample>(replies[2 * i + 1]?.[1] as string | null) }] : [];
      });
    },
    async markStopped(status) {
      await redis.set(statusKey(status.id), JSON.stringify(status), 'PX', RETENTION_MS);
    },
    get connected() {
      return redis.status === 'ready';
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

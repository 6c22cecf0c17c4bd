/**
 * Which gateway processes are alive, as the fleet's Redis knows it: every
 * gateway writes a beat (pid, host, URLs, connected bears) into one hash
 * every few seconds and deletes it when it closes; a beat older than
 * STALE_MS is a dead process (SIGKILL leaves no goodbye) and is pruned by
 * whoever reads. Control requests wait for exactly the live gateways'
 * replies, and `stats` shows the fleet's processes.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetRedis } from './fleet-redis.js';

export interface GatewayBeat {
  readonly instanceId: string;
  readonly pid: number;
  readonly host: string;
  readonly mqttUrl: string;
  readonly httpUrl: string;
  readonly bears: number;
  /** Requests and events this process has handled since it started. */
  readonly requests: number;
  readonly startedAt: number;
  readonly beatAt: number;
}

export interface FleetPresence {
  /** Live gateways (this one included), from Redis; only this one while Redis is away. */
  live(): Promise<GatewayBeat[]>;
  close(): Promise<void>;
}

const BEAT_MS = 2000;
const STALE_MS = 3 * BEAT_MS + 1000;

export interface PresenceOptions {
  redis: FleetRedis;
  keys: FleetKeys;
  instanceId: string;
  log: Logger;
  describe(): { mqttUrl: string; httpUrl: string; bears: number; requests: number };
}

export function startFleetPresence({ redis, keys, instanceId, log, describe }: PresenceOptions): FleetPresence {
  const startedAt = Date.now();
  const beat = (): GatewayBeat => ({ instanceId, pid: process.pid, host: hostname(), ...describe(), startedAt, beatAt: Date.now() });
  const write = (): void => {
    redis.client.hset(keys.gateways, instanceId, JSON.stringify(beat())).catch(() => undefined);
  };
  write();
  const timer = setInterval(write, BEAT_MS);
  timer.unref();

  return {
    async live() {
      let all: Record<string, string>;
      try {
        all = await redis.client.hgetall(keys.gateways);
      } catch {
        return [beat()];
      }
      const now = Date.now();
      const live: GatewayBeat[] = [];
      const stale: string[] = [];
      for (const [id, text] of Object.entries(all)) {
        try {
          const b = JSON.parse(text) as GatewayBeat;
          if (now - b.beatAt <= STALE_MS) live.push(b);
          else stale.push(id);
        } catch {
          stale.push(id);
        }
      }
      if (stale.length) redis.client.hdel(keys.gateways, ...stale).catch(() => undefined);
      if (!live.some((b) => b.instanceId === instanceId)) live.push(beat());
      return live.sort((a, b) => a.startedAt - b.startedAt);
    },
    async close() {
      clearInterval(timer);
      await redis.client.hdel(keys.gateways, instanceId).catch((err: Error) => log.debug({ err: err.message }, 'presence not removed'));
    },
  };
}

/**
 * The data dir's own Redis, for a gateway run without REDIS_URL or
 * REDIS_CLUSTER_NODES: a supervised redis-server (./redis-server.ts) under
 * `{dataDir}/redis`. It holds durable fleet state (the device registry) as
 * well as the cache, so it keeps an append-only file, fsynced every second,
 * and a restart of it or of the gateway loses at most that second.
 *
 * Whoever starts it records its port in `{dataDir}/redis/embedded.json`, so
 * another process on the same data dir (the CLI's `device` commands) can use
 * the running one instead of starting its own; one that finds none starts
 * it briefly. A start waits a moment for such a brief server to go before
 * it takes the directory over (and stops one left behind by a killed gateway).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from './atomic-file.js';
import { runningServerIn, startRedisServer, type RedisServer } from './redis-server.js';

export const EMBEDDED_REDIS_DIR = 'redis';
const PORT_FILE = 'embedded.json';
/** How long a start waits for another process's embedded server (a CLI command's) to stop. */
const HANDOVER_WAIT_MS = 3000;

const PERSISTENCE_ARGS = ['--appendonly', 'yes', '--appendfsync', 'everysec'] as const;

export interface EmbeddedRedisOptions {
  /** Restart it when it dies (a gateway); a brief CLI server is not supervised. */
  readonly supervise: boolean;
  readonly onRestart?: (error?: Error) => void;
}

export async function startEmbeddedRedis(dataDir: string, o: EmbeddedRedisOptions): Promise<RedisServer> {
  const dir = join(dataDir, EMBEDDED_REDIS_DIR);
  for (const deadline = Date.now() + HANDOVER_WAIT_MS; Date.now() < deadline && (await runningServerIn(dir)) !== undefined; ) await sleep(50);
  const server = await startRedisServer({ dataDir: dir, supervise: o.supervise, onRestart: o.onRestart, args: PERSISTENCE_ARGS });
  await writeFileAtomic(join(dir, PORT_FILE), `${JSON.stringify({ port: server.port })}\n`);
  return {
    get port() {
      return server.port;
    },
    get url() {
      return server.url;
    },
    get pid() {
      return server.pid;
    },
    kill: () => server.kill(),
    restart: () => server.restart(),
    async stop() {
      await server.stop();
      await rm(join(dir, PORT_FILE), { force: true });
    },
  };
}

/** The URL of the data dir's embedded Redis if one is running now (started by a gateway or another CLI). */
export async function findEmbeddedRedis(dataDir: string): Promise<string | undefined> {
  const dir = join(dataDir, EMBEDDED_REDIS_DIR);
  if ((await runningServerIn(dir)) === undefined) return undefined;
  try {
    const { port } = JSON.parse(await readFile(join(dir, PORT_FILE), 'utf8')) as { port: number };
    return Number.isInteger(port) ? `redis://127.0.0.1:${port}` : undefined;
  } catch {
    return undefined;
  }
}

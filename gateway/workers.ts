/**
 * `start --workers N`: N gateway processes on one machine, sharing its MQTT,
 * WebSocket and HTTP ports through node:cluster (the primary accepts and
 * hands each connection to a worker in turn). They are one fleet like
 * gateways on separate machines: fleet state and control traffic go through
 * Redis (./fleet-state.ts), and a bear's requests are handled by the worker
 * its connection landed on.
 *
 * The primary serves nothing itself. It owns what the workers share: the
 * data dir's embedded Redis when none is configured (handed to the workers as
 * REDIS_URL), concrete ports (port 0 resolved once, so every worker listens
 * on the same ones), the data dir's secrets. It prints the one ready line once
 * every worker listens, restarts a worker that dies (backing off if it keeps
 * dying), on SIGHUP has every worker reload its TLS certificate, and on
 * SIGTERM or SIGINT stops every worker, then the Redis, and exits 0.
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../infra/atomic-file.js';
import { loadOrCreateSecret } from '../infra/data-dir-secret.js';
import { startEmbeddedRedis } from '../infra/embedded-redis.js';
import { freePort } from '../infra/free-port.js';
import type { RedisServer } from '../infra/redis-server.js';
import { namesRedis } from './fleet-target.js';
import { aggregateWorkerMetrics } from './worker-metrics.js';
import { ADMIN_TOKEN_FILE, removeIfOurs, RUNTIME_FILE, startGateway } from './index.js';
import { cacheConfigFor, resolveOptions, type GatewayOptions } from './options.js';
import { exitWhenClosed, holdStopSignals } from './process-exit.js';
import { loadServerTls } from './server-tls.js';

/** What the primary fixes for every worker, as JSON in this environment variable (internal). */
const OVERRIDES_ENV = 'TEDDY_WORKER_OVERRIDES';
const STOP_GRACE_MS = 15_000;
/** A worker that dies sooner than this after starting counts towards the restart backoff. */
const EARLY_DEATH_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

interface WorkerReady {
  event: 'worker-ready';
  mqttUrl: string;
  httpUrl: string;
  mqttWsUrl: string;
  mqttsUrl: string;
  httpsUrl: string;
  mqttWssUrl: string;
  caFile: string;
}

export interface ReadyLine {
  event: 'ready';
  mqttUrl: string;
  httpUrl: string;
  pid: number;
  workers: number[];
  mqttsUrl: string;
  httpsUrl: string;
  caFile: string;
}

export interface PrimaryOptions {
  given: Partial<GatewayOptions>;
  count: number;
  logger: Logger;
  /** Called once, when every worker listens. */
  onReady(ready: ReadyLine & { mqttWsUrl: string; mqttWssUrl: string }): void;
}

export async function runPrimary({ given, count, logger, onReady }: PrimaryOptions): Promise<void> {
  const signals = holdStopSignals(logger);
  const o = resolveOptions(given);
  const config = cacheConfigFor(o, logger);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // Created here, once, rather than by N workers at once.
  if (!o.urlKey) await loadOrCreateSecret(config.dataDir, 'url-key');
  await loadOrCreateSecret(config.dataDir, ADMIN_TOKEN_FILE);
  // The fleet CA and the server certificate, too (the workers only read them).
  await loadServerTls(o, config.dataDir, logger);
  let redis: RedisServer | undefined;
  const env: Record<string, string> = {};
  if (!namesRedis(config)) {
    redis = await startEmbeddedRedis(config.dataDir, {
      supervise: true,
      onRestart: (err) => (err ? logger.error({ err: err.message }, 'embedded redis-server is down') : logger.warn('embedded redis-server restarted')),
    });
    env.REDIS_URL = redis.url;
  }
  const overrides: Partial<GatewayOptions> = {
    mqttPort: o.mqttPort || (await freePort()),
    httpPort: o.httpPort || (await freePort()),
    mqttsPort: o.mqttsPort || (await freePort()),
    httpsPort: o.httpsPort || (await freePort()),
  };
  env[OVERRIDES_ENV] = JSON.stringify(overrides);
  aggregateWorkerMetrics();

  let stopping = false;
  const runtimeFile = join(config.dataDir, RUNTIME_FILE);
  const started = new Map<Worker, number>();
  let earlyDeaths = 0;
  const fork = (): Worker => {
    const worker = cluster.fork(env);
    started.set(worker, Date.now());
    return worker;
  };

  const first = await new Promise<WorkerReady>((resolve, reject) => {
    const waiting = new Set<Worker>();
    let ready: WorkerReady | undefined;
    for (let i = 0; i < count; i++) {
      const worker = fork();
      waiting.add(worker);
      worker.on('message', (m: WorkerReady) => {
        if (m?.event !== 'worker-ready') return;
        ready ??= m;
        waiting.delete(worker);
        if (waiting.size === 0) resolve(ready);
      });
      worker.once('exit', (code, signal) => {
        if (waiting.has(worker)) reject(new Error(`gateway worker ${worker.process.pid} exited (${code ?? signal}) before it was ready; see its log above`));
      });
    }
  }).catch(async (err: unknown) => {
    stopping = true;
    await stopWorkers();
    await redis?.stop();
    throw err;
  });

  cluster.on('exit', (worker, code, signal) => {
    const at = started.get(worker) ?? 0;
    started.delete(worker);
    if (stopping) return;
    earlyDeaths = Date.now() - at < EARLY_DEATH_MS ? earlyDeaths + 1 : 0;
    const delay = earlyDeaths ? Math.min(MAX_BACKOFF_MS, 250 * 2 ** earlyDeaths) : 0;
    logger.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'gateway worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  const pids = (): number[] => Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!).filter(Boolean);
  const { event: _worker, ...urls } = first;
  await writeFileAtomic(runtimeFile, `${JSON.stringify({ pid: process.pid, ...urls, workers: pids() })}\n`);
  logger.info({ workers: pids(), ...urls }, 'gateway workers listening');
  onReady({ event: 'ready', ...urls, pid: process.pid, workers: pids() });

  async function stopWorkers(): Promise<void> {
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const timer = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.process.kill('SIGTERM');
          }),
      ),
    );
  }

  const exit = exitWhenClosed(async () => {
    await stopWorkers();
    await redis?.stop();
    await removeIfOurs(runtimeFile);
  }, logger, 'shutting down the gateway workers');
  signals.handOver((signal) => {
    stopping = true;
    exit(signal);
  });
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) if (w && !w.isDead()) w.process.kill('SIGHUP');
  });
}

/** One worker: a gateway on the primary's ports and Redis; tells the primary when it listens. */
export async function runWorker(given: Partial<GatewayOptions>, logger: Logger): Promise<void> {
  // Ctrl-C reaches every process of the group; the primary stops the workers in order.
  process.on('SIGINT', () => undefined);
  const signals = holdStopSignals(logger, ['SIGTERM']);
  const overrides = JSON.parse(process.env[OVERRIDES_ENV] ?? '{}') as Partial<GatewayOptions>;
  const gateway = await startGateway({ ...given, ...overrides, logger, writeRuntimeFile: false });
  const stop = exitWhenClosed(() => gateway.close(), logger, 'gateway worker shutting down');
  signals.handOver(stop);
  // From the primary (or the terminal's hangup, which reaches the whole group): a failed reload is logged.
  process.on('SIGHUP', () => void gateway.reloadTls().catch(() => undefined));
  // The primary is gone (killed outright): nobody hands this worker connections any more.
  process.on('disconnect', () => stop('primary gone'));
  if (!process.connected) return stop('primary gone'); // it went while this worker was starting
  const { mqttUrl, httpUrl, mqttWsUrl, mqttsUrl, httpsUrl, mqttWssUrl, caFile } = gateway;
  process.send?.({ event: 'worker-ready', mqttUrl, httpUrl, mqttWsUrl, mqttsUrl, httpsUrl, mqttWssUrl, caFile } satisfies WorkerReady);
}

export const isWorker = (): boolean => cluster.isWorker;

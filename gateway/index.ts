/**
 * startGateway: the bear's server. Wires the MQTT broker (auth, ACL, request
 * handling), the SDK cache, the AI provider, warm pushes, the HTTP origin
 * and the fleet state it shares with every other gateway process through
 * Redis (./fleet-state.ts) together, and takes them down again in order on
 * close(). Without a Redis configured it starts the data dir's embedded one
 * (persisted: it holds the device registry).
 */
import cluster from 'node:cluster';
import { mkdir, rm, readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createCache, createCacheIntegrationService } from '../sdk/index.js';
import { writeFileAtomic } from '../infra/atomic-file.js';
import { createAuthenticate } from './auth.js';
import { createAuthorizers } from './authorize.js';
import { describeSession, fleetFlashStats } from './bear-sessions.js';
import { listen, startBroker, urlHost } from './broker.js';
import { createAdminApi } from './admin-api.js';
import { createAdminTokens } from './admin-tokens.js';
import { createAuditLog } from './audit-log.js';
import { createBearStore } from './bear-sessions-sync.js';
import { createClipUrls } from './clip-urls.js';
import { createEraser, type EraseReport } from './erase.js';
import { createTextCipher } from './fleet-text-cipher.js';
import { closeUnadmitted, createConnectionLimiter } from './connection-limiter.js';
import { createConversation } from './conversation.js';
import { loadOrCreateSecret } from '../infra/data-dir-secret.js';
import { startEmbeddedRedis } from '../infra/embedded-redis.js';
import type { RedisServer } from '../infra/redis-server.js';
import type { ControlBus } from './control-bus.js';
import { startFleetState } from './fleet-state.js';
import { fleetRedisTarget, namesRedis } from './fleet-target.js';
import { createHttpOrigin } from './http-origin.js';
import { createGatewayMetrics } from './metrics.js';
import { MQTT_WEBSOCKET_PATH, serveMqttOverWebSocket } from './mqtt-websocket.js';
import { cacheConfigFor, optionSource, resolveOptions, type GatewayOptions } from './options.js';
import { createDemoProvider } from './providers/demo-provider.js';
import { instrumentProvider } from './providers/instrumented-provider.js';
import { STARTER_LINES } from './providers/phrasebook.js';
import { createRateLimiter } from './rate-limit.js';
import { createRequestHandler } from './request-handler.js';
import { createVoiceClips } from './voice-clips.js';
import { workerMetricsText } from './worker-metrics.js';
import { createWarmPush } from './warm-push.js';
import { loadOpsConfig } from './ops/ops-config.js';
import { startOperations, type Operations } from './ops/operations.js';
import { isLoopback, loadServerTls } from './server-tls.js';
import { secureTlsListener } from './tls-listener.js';
import { closeSilentConnections } from './first-request-deadline.js';

export type { GatewayOptions } from './options.js';

export interface Gateway {
  /** Plaintext MQTT and HTTP (loopback only unless --allow-plaintext). */
  readonly mqttUrl: string;
  readonly httpUrl: string;
  /** MQTT over WebSocket on the HTTP port. */
  readonly mqttWsUrl: string;
  /** MQTT over TLS, HTTPS, and MQTT over WSS on the HTTPS port. */
  readonly mqttsUrl: string;
  readonly httpsUrl: string;
  readonly mqttWssUrl: string;
  /** The CA file a client trusts for this gateway's certificate. */
  readonly caFile: string;
  readonly devices: {
    add(id: string, secret?: string): Promise<{ id: string; secret: string }>;
    /** Removes the bear from the registry and disconnects it if connected. */
    remove(id: string): Promise<boolean>;
    list(): Promise<{ id: string; createdAt: string }[]>;
  };
  /**
   * Pushes the current warm manifest to one bear, or to every bear that said hello, wherever in
   * the fleet it is connected; returns how many were pushed.
   */
  pushWarm(deviceId?: string): Promise<number>;
  /** Erases everything derived from this bear's input, fleet-wide (./erase.ts); the caller audits it. */
  erase(deviceId: string): Promise<EraseReport>;
  /**
   * Reads the TLS certificate, key and CAs again (`--tls-*`, else the data dir's) and serves them to
   * every MQTTS, HTTPS and WSS connection from now on; open connections keep theirs. Rejects (and
   * keeps serving the old ones) if the new files do not load. `start` runs it on SIGHUP.
   */
  reloadTls(): Promise<void>;
  /** This process's id in the fleet. */
  readonly instanceId: string;
  /** Control messages to and from the other gateway processes (add a handler per kind). */
  readonly control: ControlBus;
  close(): Promise<void>;
}

/**
 * How long a gateway waits for the others' answers to a control request (warm, stats). Only a
 * gateway that died since its last heartbeat costs the whole wait; a live one on a loaded machine
 * (the test suite's two cores) took over 2 s to answer a warm push.
 */
const CONTROL_REPLY_MS = 5000;

/** How long start waits for the control bus to hear itself before it says ready anyway. */
const CONTROL_READY_WAIT_MS = 5000;

/** Bears a fleet-wide warm push writes to between two turns of the event loop. */
const WARM_PUSH_CHUNK = 256;

/** Where a running gateway announces itself to the CLI (`warm`, `stats`). */
export const RUNTIME_FILE = 'gateway.json';
export const ADMIN_TOKEN_FILE = 'admin-token';

export async function startGateway(given: Partial<GatewayOptions> = {}): Promise<Gateway> {
  // What a failed start had already started is stopped again, newest first.
  const started: (() => Promise<unknown>)[] = [];
  try {
    return await start(given, started);
  } catch (err) {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

async function start(given: Partial<GatewayOptions>, started: (() => Promise<unknown>)[]): Promise<Gateway> {
  const o = resolveOptions(given);
  const log = o.logger ?? pino({ name: 'teddy-gateway', level: o.logLevel });
  // A bad SLO or rule configuration is refused before anything starts.
  const opsConfig = await loadOpsConfig(o.sloConfig, optionSource('sloConfig', given));
  const { dataDir } = cacheConfigFor(o, log);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const urlKey = o.urlKey ?? (await loadOrCreateSecret(dataDir, 'url-key'));
  const adminToken = await loadOrCreateSecret(dataDir, ADMIN_TOKEN_FILE);
  const tls = await loadServerTls(o, dataDir, log);
  // Plaintext stays on this machine unless the operator insists: off loopback, only TLS listens.
  const plaintextHost = o.allowPlaintext || isLoopback(o.host) ? o.host : '127.0.0.1';
  // No Redis configured: the data dir's embedded one, for the cache and the fleet state alike.
  let embeddedRedis: RedisServer | undefined;
  let cacheConfig = cacheConfigFor(o, log);
  if (!namesRedis(cacheConfig)) {
    embeddedRedis = await startEmbeddedRedis(dataDir, {
      supervise: true,
      onRestart: (err) => (err ? log.error({ err: err.message }, 'embedded redis-server is down') : log.warn('embedded redis-server restarted')),
    });
    started.push(() => embeddedRedis!.stop());
    cacheConfig = { ...cacheConfig, l2RedisUrl: embeddedRedis.url };
  }
  const cache = o.cache ?? (await createCache(cacheConfig));
  if (!o.cache) started.push(() => cache.close());

  let connectedBears = (): number => 0;
  const metrics = createGatewayMetrics({ connectedBears: () => connectedBears(), cache: () => cache.getPerformanceMetrics() }, { gcMetrics: o.gcMetrics });
  const provider = instrumentProvider(o.provider ?? createDemoProvider({ latencyMs: o.providerLatencyMs, log }), metrics);
  let httpUrl = '';
  let httpsUrl = '';
  let overTls = (_deviceId: string): boolean => false;
  let mqttUrl = '';
  let broker: Awaited<ReturnType<typeof startBroker>> | undefined;
  /** When each connected bear's current connection began (for takeovers across processes). */
  const connectedAt = new Map<string, number>();
  /** Bear messages this process handled (for the fleet's per-process load). */
  let handled = 0;
  const fleet = await startFleetState({
    target: (await fleetRedisTarget(cacheConfig))!,
    prefix: cacheConfig.keyPrefix,
    urlKey,
    dataDir,
    log,
    describe: () => ({ mqttUrl, httpUrl, bears: broker?.clients.size ?? 0, requests: handled }),
    closeLocal(deviceId, before) {
      const client = broker?.clients.get(deviceId);
      if (!client || (connectedAt.get(deviceId) ?? Infinity) >= before) return false;
      client.close();
      return true;
    },
    onDeviceRemoved: (deviceId) => broker?.clients.get(deviceId)?.close(),
  });
  started.push(() => fleet.close());
  const { registry, catalog, sessions, control, presence, takeover } = fleet;
  // A bear that came over TLS fetches its clips over HTTPS; a loopback plaintext one over HTTP.
  const clipUrls = createClipUrls({
    origin: (tls) => o.publicUrl ?? (tls ? httpsUrl : httpUrl),
    // With a public URL (a CDN) every bear gets the same one.
    overTls: (deviceId) => !o.publicUrl && overTls(deviceId),
    urlKey, ttlSeconds: o.urlTtlSeconds,
  });
  const service = createCacheIntegrationService(cache);
  const voiceClips = createVoiceClips({ service, provider, catalog });
  const conversation = createConversation({ service, provider, voiceClips });
  const rateLimiter = createRateLimiter({ perSecond: o.rateLimitPerSecond, burst: o.rateLimitBurst });
  const voices = voicesWithDefault(provider.voices, o.defaultVoice);

  let send = (_deviceId: string, _channel: 'res' | 'warm', _payload: Buffer): boolean => false;
  const warmPush = createWarmPush({ catalog, clipUrls, metrics, log, send: (d, c, p) => send(d, c, p) });
  const handler = createRequestHandler({
    conversation, voiceClips, catalog, sessions, clipUrls, warmPush, rateLimiter, metrics, log,
    maxRequestBytes: o.maxRequestBytes,
    voices,
    send: (d, c, p) => send(d, c, p),
  });

  // The first manifest any bear gets is never empty.
  await Promise.all(
    STARTER_LINES.map((line) =>
      voiceClips.clip(line, voices[0]!, true).catch((err: unknown) => log.error({ err }, 'starter clip synthesis failed')),
    ),
  );

  broker = await startBroker({
    host: plaintextHost,
    port: o.mqttPort,
    tls: { host: o.host, port: o.mqttsPort, options: tls.options },
    maxConnectBytes: o.maxConnectBytes,
    maxRequestBytes: o.maxRequestBytes,
    connectTimeoutMs: o.connectTimeoutMs,
    connectionLimiter: createConnectionLimiter({ perSecond: o.connectRatePerSecond, burst: o.connectBurst, exempt: o.connectRateExempt }),
    onRefused: (reason) => metrics.connectionsRefused.inc({ reason }),
    authenticate: createAuthenticate({
      registry, fleetKey: o.fleetKey, log, onFailure: (reason) => metrics.authFailures.inc({ reason }),
    }),
    authorizers: createAuthorizers({ log, onDenied: (action) => metrics.aclDenials.inc({ action }) }),
    log,
    onBearMessage: (deviceId, channel, payload) => {
      handled++;
      // The handler answers every failure itself; reaching either catch is a bug there, logged, and the
      // broker goes on serving (a throw here would unwind into Aedes's event emitter).
      const bug = (err: unknown): void => log.error({ deviceId, err }, 'request handler failed');
      try {
        handler.handle(deviceId, channel, payload)?.catch(bug);
      } catch (err) {
        bug(err);
      }
    },
    onConnect(deviceId) {
      const at = Date.now();
      connectedAt.set(deviceId, at);
      takeover.connected(deviceId, at);
    },
    onDisconnect(deviceId) {
      rateLimiter.forget(deviceId);
      // A newer connection of the same id (a takeover within this process) keeps the claim.
      if (bears.clients.has(deviceId)) return;
      connectedAt.delete(deviceId);
      takeover.disconnected(deviceId);
    },
  });
  const bears = broker;
  started.push(() => bears.close());
  send = bears.sendTo;
  connectedBears = () => bears.clients.size;
  mqttUrl = bears.url;
  overTls = bears.overTls;

  /**
   * Pushes to bears connected to this process, giving the event loop back every WARM_PUSH_CHUNK
   * bears: in one synchronous pass over 10,000 bears every plan and packet is alive at once and
   * lands in the old generation (the gateway's RSS grew 25 MB for good at a fleet-wide push).
   */
  const pushWarmHere = async (deviceId?: string): Promise<number> => {
    let pushed = 0;
    for (const session of deviceId ? [sessions.get(deviceId)] : sessions.all()) {
      if (!session || !bears.clients.has(session.deviceId)) continue;
      await warmPush.send(session, warmPush.plan(session));
      if (++pushed % WARM_PUSH_CHUNK === 0) await setImmediate();
    }
    return pushed;
  };
  const pushedBy = (replies: { body: unknown }[]): number =>
    replies.reduce((n, r) => n + (Number((r.body as { pushed?: unknown } | null)?.pushed) || 0), 0);
  control.on('warm', async (body) => ({ pushed: await pushWarmHere((body as { deviceId?: string } | null)?.deviceId) }));
  const pushWarm = async (deviceId?: string): Promise<number> => {
    if (deviceId) {
      if (bears.clients.has(deviceId)) return pushWarmHere(deviceId);
      const owner = await takeover.ownerOf(deviceId).catch(() => undefined);
      if (!owner || owner === control.instanceId) return 0;
      return pushedBy(await control.request({ instance: owner }, 'warm', { deviceId }, [owner], CONTROL_REPLY_MS));
    }
    const here = await pushWarmHere();
    const live = (await presence.live()).map((g) => g.instanceId);
    const pushed = here + pushedBy(await control.request('all', 'warm', {}, live, CONTROL_REPLY_MS).catch(() => []));
    // One line per fleet-wide push; each bear's manifest and ack are debug lines (10,000 of each).
    log.info({ pushed, here, gateways: live.length }, 'warm push');
    return pushed;
  };
  const describeHere = (deviceId: string) => {
    const session = sessions.get(deviceId);
    return session && bears.clients.has(deviceId) ? describeSession(session, true) : undefined;
  };
  control.on('stats-device', (body) => describeHere(String((body as { deviceId?: unknown } | null)?.deviceId)) ?? null);

  let operations: Operations | undefined;
  /** What this process holds of an erased bear (./erase.ts), dropped. */
  const forgetHere = (deviceId: string, clipIds: readonly string[]): void => {
    sessions.erase(deviceId);
    for (const id of clipIds) catalog.erase(id);
    rateLimiter.forget(deviceId);
    bears.clients.get(deviceId)?.close();
  };
  control.on('erase', (body) => {
    const { deviceId, clips } = (body ?? {}) as { deviceId?: unknown; clips?: unknown };
    if (typeof deviceId !== 'string' || !Array.isArray(clips)) return;
    forgetHere(deviceId, clips.filter((c): c is string => typeof c === 'string'));
  });
  const eraser = createEraser({
    cache, client: fleet.redis.client, keys: fleet.keys, registry, store: createBearStore(fleet.redis.client, fleet.keys, log),
    cipher: createTextCipher(urlKey), dataDir, log,
    async forgetEverywhere(deviceId, clips) {
      forgetHere(deviceId, clips);
      await control.broadcast('erase', { deviceId, clips });
    },
  });

  const devices: Gateway['devices'] = {
    add: (id, secret) => registry.add(id, secret),
    async remove(id) {
      const removed = await registry.remove(id);
      bears.clients.get(id)?.close();
      return removed;
    },
    list: () => registry.list(),
  };
  const admin = createAdminApi({
    tokens: createAdminTokens({ client: fleet.redis.client, keys: fleet.keys, localToken: adminToken }),
    audit: createAuditLog(dataDir),
    log,
    actions: {
      warm: pushWarm,
      listDevices: devices.list,
      addDevice: (id) => devices.add(id),
      removeDevice: devices.remove,
      erase: eraser.erase,
      stats: async (deviceId) => {
        if (deviceId) {
          const here = describeHere(deviceId);
          if (here) return here;
          const owner = await takeover.ownerOf(deviceId).catch(() => undefined);
          const there = owner && owner !== control.instanceId
            ? (await control.request({ instance: owner }, 'stats-device', { deviceId }, [owner], CONTROL_REPLY_MS))[0]?.body
            : undefined;
          if (there) return there;
          const session = sessions.get(deviceId);
          return session ? describeSession(session, false) : undefined;
        }
        return {
          bears: { connected: bears.clients.size, saidHello: sessions.size, ...fleetFlashStats(sessions.all()) },
          clips: catalog.size,
          cache: cache.getPerformanceMetrics(),
          gateways: await presence.live(),
        };
      },
      ops: () => operations,
    },
  });
  const origin = createHttpOrigin({
    blobStore: cache.blobStore,
    urlKey, catalog, metrics, log, admin,
    metricsAuth: o.metricsAuth,
    metricsText: cluster.isWorker ? workerMetricsText(metrics.registry) : undefined,
    health: async () => ({
      ok: true, bears: bears.clients.size, clips: catalog.size, cache: await cache.health(),
      fleet: { redis: fleet.redis.label, connected: fleet.redis.up, instanceId: control.instanceId },
    }),
  });
  const http = createHttpServer(origin);
  const https = createHttpsServer(tls.options, origin);
  secureTlsListener(https, { log, name: 'https', onRefused: (reason) => metrics.connectionsRefused.inc({ reason }) });
  // The broker's per-address connection rate covers the HTTP(S) origin too, before a TLS handshake
  // (the costly part), and with it MQTT over WebSocket: an upgrade rides a connection admitted here.
  for (const server of [http, https]) {
    closeUnadmitted(server, bears.admit);
    closeSilentConnections(server, o.connectTimeoutMs);
  }
  const closeWebSockets = [serveMqttOverWebSocket(http, bears), serveMqttOverWebSocket(https, bears)];
  const closeHttp = async (): Promise<void> => {
    await Promise.all(closeWebSockets.map((close) => close()));
    for (const server of [http, https]) {
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
  started.push(closeHttp);
  const httpPort = await listen(http, o.httpPort, plaintextHost, '--http-port');
  const httpsPort = await listen(https, o.httpsPort, o.host, '--https-port');
  httpUrl = `http://${plaintextHost}:${httpPort}`;
  httpsUrl = `https://${urlHost(o.host)}:${httpsPort}`;
  const mqttWsUrl = `ws://${plaintextHost}:${httpPort}${MQTT_WEBSOCKET_PATH}`;
  const mqttWssUrl = `wss://${urlHost(o.host)}:${httpsPort}${MQTT_WEBSOCKET_PATH}`;
  const urls = { mqttUrl, httpUrl, mqttWsUrl, mqttsUrl: bears.tlsUrl, httpsUrl, mqttWssUrl, caFile: tls.caFile };
  const ops = await startOperations({
    cache, metrics, log, config: opsConfig, intervalMs: o.opsIntervalMs, alertWebhook: o.alertWebhook,
    fleetRedis: fleet.redis, fleetKeys: fleet.keys,
    l1MaxBytes: cacheConfig.l1Enabled ? cacheConfig.l1MaxSizeMb * 1024 * 1024 : 0, l2Configured: cacheConfig.l2Enabled,
    connectedBears: () => bears.clients.size, httpUrl: () => httpUrl,
  });
  started.push(() => ops.close());
  operations = ops;

  // Ready means reachable by the other gateways too: wait (bounded: a gateway starts, and serves,
  // without its Redis) until the control bus hears itself.
  const hears = await Promise.race([control.subscribed().then(() => true), sleep(CONTROL_READY_WAIT_MS, false, { ref: false })]);
  if (!hears) log.warn({ waitedMs: CONTROL_READY_WAIT_MS }, 'control channels not heard yet (fleet Redis away?): other gateways cannot reach this one until they are');

  const runtimeFile = join(dataDir, RUNTIME_FILE);
  if (o.writeRuntimeFile !== false) await writeFileAtomic(runtimeFile, `${JSON.stringify({ pid: process.pid, ...urls })}\n`);
  log.info({ ...urls, dataDir, fleetProvisioning: Boolean(o.fleetKey), fleetRedis: fleet.redis.label, instanceId: control.instanceId }, 'gateway listening');
  if (plaintextHost !== o.host) log.info({ host: o.host, plaintextHost }, 'plaintext MQTT and HTTP on loopback only (--allow-plaintext serves them on --host)');

  const reloadTls = async (): Promise<void> => {
    try {
      const next = await loadServerTls(o, dataDir, log);
      broker!.setSecureContext(next.options);
      https.setSecureContext(next.options);
      log.info({ caFile: next.caFile }, 'TLS certificate reloaded: new connections get it');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'TLS reload failed: still serving the previous certificate');
      throw err;
    }
  };

  let closing: Promise<void> | undefined;
  return {
    ...urls,
    devices,
    pushWarm,
    erase: eraser.erase,
    reloadTls,
    instanceId: control.instanceId,
    control,
    close() {
      closing ??= (async () => {
        await ops.close();
        await bears.close();
        await closeHttp();
        await fleet.close();
        if (!o.cache) await cache.close();
        await embeddedRedis?.stop();
        await removeIfOurs(runtimeFile);
        log.info('gateway closed');
      })();
      return closing;
    },
  };
}

/** The provider's voices with the configured default first. */
function voicesWithDefault(voices: readonly string[], preferred: string): string[] {
  return voices.includes(preferred) ? [preferred, ...voices.filter((v) => v !== preferred)] : [...voices];
}

/** Removes the runtime file if this process wrote it (another gateway may have replaced it since). */
export async function removeIfOurs(runtimeFile: string): Promise<void> {
  try {
    const { pid } = JSON.parse(await readFile(runtimeFile, 'utf8')) as { pid: number };
    if (pid === process.pid) await rm(runtimeFile, { force: true });
  } catch {
    // Already gone or replaced by another gateway: nothing of ours to remove.
  }
}

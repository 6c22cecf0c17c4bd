/**
 * startGateway: the bear's server. Wires the MQTT broker (auth, ACL, request
 * handling), the SDK cache, the AI provider, warm pushes and the HTTP origin
 * together, and takes them down again in order on close().
 */
import { mkdir, rm, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { createCache, createCacheIntegrationService } from '../sdk/index.js';
import { writeFileAtomic } from '../infra/atomic-file.js';
import { createAuthenticate } from './auth.js';
import { createAuthorizers } from './authorize.js';
import { createBearSessions, describeSession, fleetFlashStats } from './bear-sessions.js';
import { startBroker } from './broker.js';
import { createClipCatalog } from './clip-catalog.js';
import { createClipUrls } from './clip-urls.js';
import { createConnectionLimiter } from './connection-limiter.js';
import { createConversation } from './conversation.js';
import { loadOrCreateSecret } from '../infra/data-dir-secret.js';
import { createDeviceRegistry, REGISTRY_FILE } from './device-registry.js';
import { createHttpOrigin } from './http-origin.js';
import { createGatewayMetrics } from './metrics.js';
import { MQTT_WEBSOCKET_PATH, serveMqttOverWebSocket } from './mqtt-websocket.js';
import { cacheConfigFor, resolveOptions, type GatewayOptions } from './options.js';
import { createDemoProvider } from './providers/demo-provider.js';
import { instrumentProvider } from './providers/instrumented-provider.js';
import { STARTER_LINES } from './providers/phrasebook.js';
import { createRateLimiter } from './rate-limit.js';
import { createRequestHandler } from './request-handler.js';
import { createVoiceClips } from './voice-clips.js';
import { createWarmPush } from './warm-push.js';
import { loadOpsConfig } from './ops/ops-config.js';
import { startOperations, type Operations } from './ops/operations.js';

export type { GatewayOptions } from './options.js';

export interface Gateway {
  readonly mqttUrl: string;
  readonly httpUrl: string;
  /** MQTT over WebSocket on the HTTP port. */
  readonly mqttWsUrl: string;
  readonly devices: {
    add(id: string, secret?: string): Promise<{ id: string; secret: string }>;
    /** Removes the bear from the registry and disconnects it if connected. */
    remove(id: string): Promise<boolean>;
    list(): Promise<{ id: string; createdAt: string }[]>;
  };
  /** Pushes the current warm manifest to one connected bear, or to all that said hello; returns how many. */
  pushWarm(deviceId?: string): Promise<number>;
  close(): Promise<void>;
}

/** Where a running gateway announces itself to the CLI (`warm`, `stats`). */
export const RUNTIME_FILE = 'gateway.json';
export const ADMIN_TOKEN_FILE = 'admin-token';

export async function startGateway(given: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const o = resolveOptions(given);
  const log = o.logger ?? pino({ name: 'teddy-gateway', level: o.logLevel });
  // A bad SLO or rule configuration is refused before anything starts.
  const opsConfig = await loadOpsConfig(o.sloConfig, given.sloConfig !== undefined ? '--slo-config' : 'TEDDY_SLO_CONFIG');
  const cacheConfig = cacheConfigFor(o, log);
  const { dataDir } = cacheConfig;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const urlKey = o.urlKey ?? (await loadOrCreateSecret(dataDir, 'url-key'));
  const adminToken = await loadOrCreateSecret(dataDir, ADMIN_TOKEN_FILE);
  const cache = o.cache ?? (await createCache(cacheConfig));
  const registry = createDeviceRegistry(join(dataDir, REGISTRY_FILE));

  let connectedBears = (): number => 0;
  const metrics = createGatewayMetrics({ connectedBears: () => connectedBears(), cache: () => cache.getPerformanceMetrics() });
  const provider = instrumentProvider(o.provider ?? createDemoProvider({ latencyMs: o.providerLatencyMs, log }), metrics);
  const catalog = createClipCatalog();
  const sessions = createBearSessions();
  let httpUrl = '';
  const clipUrls = createClipUrls({ origin: () => o.publicUrl ?? httpUrl, urlKey, ttlSeconds: o.urlTtlSeconds });
  const service = createCacheIntegrationService(cache);
  const voiceClips = createVoiceClips({ service, provider, catalog });
  const conversation = createConversation({ service, provider, voiceClips });
  const rateLimiter = createRateLimiter({ perSecond: o.rateLimitPerSecond, burst: o.rateLimitBurst });
  const voices = voicesWithDefault(provider.voices, o.defaultVoice);

  let publish = (_topic: string, _payload: Buffer): Promise<void> => Promise.reject(new Error('broker not started'));
  const warmPush = createWarmPush({ catalog, clipUrls, metrics, log, publish: (t, p) => publish(t, p) });
  const handler = createRequestHandler({
    conversation, voiceClips, catalog, sessions, clipUrls, warmPush, rateLimiter, metrics, log,
    maxRequestBytes: o.maxRequestBytes,
    voices,
    publish: (t, p) => publish(t, p),
  });

  // The first manifest any bear gets is never empty.
  await Promise.all(
    STARTER_LINES.map((line) =>
      voiceClips.clip(line, voices[0]!, true).catch((err: unknown) => log.error({ err }, 'starter clip synthesis failed')),
    ),
  );

  const broker = await startBroker({
    host: o.host,
    port: o.mqttPort,
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
      handler.handle(deviceId, channel, payload).catch((err: unknown) => log.error({ deviceId, err }, 'response publish failed'));
    },
    onDisconnect: (deviceId) => rateLimiter.forget(deviceId),
  });
  publish = broker.publish;
  connectedBears = () => broker.clients.size;

  const pushWarm = async (deviceId?: string): Promise<number> => {
    let pushed = 0;
    for (const session of deviceId ? [sessions.get(deviceId)] : sessions.all()) {
      if (!session || !broker.clients.has(session.deviceId)) continue;
      await warmPush.send(session, warmPush.plan(session));
      pushed++;
    }
    return pushed;
  };

  let operations: Operations | undefined;
  const http = createHttpOrigin({
    blobStore: cache.blobStore,
    urlKey, catalog, metrics, log,
    health: async () => ({ ok: true, bears: broker.clients.size, clips: catalog.size, cache: await cache.health() }),
    admin: {
      token: adminToken,
      warm: pushWarm,
      stats: async (deviceId) => {
        if (deviceId) {
          const session = sessions.get(deviceId);
          return session ? describeSession(session, broker.clients.has(deviceId)) : undefined;
        }
        return {
          bears: { connected: broker.clients.size, saidHello: sessions.size, ...fleetFlashStats(sessions.all()) },
          clips: catalog.size,
          cache: cache.getPerformanceMetrics(),
        };
      },
      ops: () => operations,
    },
  });
  const closeWebSocket = serveMqttOverWebSocket(http, broker);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.httpPort, o.host, () => resolve());
  });
  const httpPort = (http.address() as AddressInfo).port;
  httpUrl = `http://${o.host}:${httpPort}`;
  const mqttWsUrl = `ws://${o.host}:${httpPort}${MQTT_WEBSOCKET_PATH}`;
  operations = await startOperations({
    cache, metrics, log, config: opsConfig, intervalMs: o.opsIntervalMs, alertWebhook: o.alertWebhook,
    keyPrefix: cacheConfig.keyPrefix, l1MaxBytes: cacheConfig.l1Enabled ? cacheConfig.l1MaxSizeMb * 1024 * 1024 : 0,
    connectedBears: () => broker.clients.size, httpUrl: () => httpUrl,
  });

  const runtimeFile = join(dataDir, RUNTIME_FILE);
  await writeFileAtomic(runtimeFile, `${JSON.stringify({ pid: process.pid, mqttUrl: broker.url, httpUrl })}\n`);
  log.info({ mqttUrl: broker.url, mqttWsUrl, httpUrl, dataDir, fleetProvisioning: Boolean(o.fleetKey) }, 'gateway listening');

  let closing: Promise<void> | undefined;
  return {
    mqttUrl: broker.url,
    httpUrl,
    mqttWsUrl,
    devices: {
      add: (id, secret) => registry.add(id, secret),
      async remove(id) {
        const removed = await registry.remove(id);
        broker.clients.get(id)?.close();
        return removed;
      },
      list: () => registry.list(),
    },
    pushWarm,
    close() {
      closing ??= (async () => {
        await operations?.close();
        await broker.close();
        await closeWebSocket();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        if (!o.cache) await cache.close();
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

async function removeIfOurs(runtimeFile: string): Promise<void> {
  try {
    const { pid } = JSON.parse(await readFile(runtimeFile, 'utf8')) as { pid: number };
    if (pid === process.pid) await rm(runtimeFile, { force: true });
  } catch {
    // Already gone or replaced by another gateway: nothing of ours to remove.
  }
}

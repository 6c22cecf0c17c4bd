/**
 * Test harness: a real gateway in-process (ports 0, temp data dir, real
 * redis-server from the shared helper) and a small real MQTT bear (mqtt.js)
 * that speaks the protocol.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../gateway/index.js';
import { decodeMessage, deviceTopic, encodeMessage, type Message, type Warm } from '../../protocol/index.js';
import { startRedisCluster, type RedisCluster } from '../../infra/redis-cluster.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { connectMqtt } from '../helpers/mqtt-connect.js';

export interface TestGateway {
  gateway: Gateway;
  dataDir: string;
  /** Its Redis (undefined on a cluster). */
  redis: RedisHandle | undefined;
  /** The gateway's fleet key (fleet provisioning is on in every test gateway). */
  fleetKey: string;
  /** Every log line the gateway wrote, as text (to check nothing sensitive is logged). */
  logs: string[];
  /** Connects a bear with its fleet-derived secret; stop() closes it if the test did not. */
  connectFleetBear(id: string): Promise<TestBear>;
  stop(): Promise<void>;
}

export const TEST_FLEET_KEY = 'test-fleet-key';

export interface TestFleet {
  /** The one Redis, unless the fleet runs on `cluster`. */
  readonly redis: RedisHandle | undefined;
  readonly cluster: RedisCluster | undefined;
  readonly gateways: TestGateway[];
  stop(): Promise<void>;
}

/**
 * Several gateways in this process, each with its own data dir and ports, on one Redis and with
 * the same keys (fleet, URL, cache): what several machines of one fleet share. The cache keys
 * come from TEDDY_CACHE_KEYS, as a deployment sets them; the caller sets it before starting.
 */
export async function startTestFleet(count: number, options: Partial<GatewayOptions> = {}, on: 'redis' | 'cluster' = 'redis'): Promise<TestFleet> {
  if (!process.env.TEDDY_CACHE_KEYS) throw new Error('startTestFleet: set TEDDY_CACHE_KEYS first (every gateway of a fleet shares them)');
  const redis = on === 'redis' ? await startRedis() : undefined;
  const cluster = on === 'cluster' ? await startRedisCluster() : undefined;
  const store = redis ? { redis } : { cluster: cluster! };
  const gateways: TestGateway[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(gateways.map((g) => g.stop()));
    await redis?.stop();
    await cluster?.stop();
  };
  try {
    for (let i = 0; i < count; i++) gateways.push(await startTestGateway({ urlKey: 'test-url-key', ...options }, store));
  } catch (err) {
    await stop();
    throw err;
  }
  return { redis, cluster, gateways, stop };
}

/** A gateway on its own Redis, or on a shared Redis or cluster (which the caller then stops). */
export async function startTestGateway(options: Partial<GatewayOptions> = {}, shared?: { redis: RedisHandle } | { cluster: RedisCluster }): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'teddy-gw-'));
  const redis = shared ? ('redis' in shared ? shared.redis : undefined) : await startRedis();
  const clusterNodes = shared && 'cluster' in shared ? [...shared.cluster.nodes] : undefined;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const fleetKey = options.fleetKey ?? TEST_FLEET_KEY;
  const gateway = await startGateway({
    mqttPort: 0,
    httpPort: 0,
    mqttsPort: 0,
    httpsPort: 0,
    dataDir,
    ...(clusterNodes ? { redisClusterNodes: clusterNodes } : { redisUrl: redis!.url }),
    providerLatencyMs: 0,
    logger: pino({ level: 'debug' }, sink),
    ...options,
    fleetKey,
  });
  const bears: TestBear[] = [];
  return {
    gateway,
    dataDir,
    redis,
    fleetKey,
    logs,
    async connectFleetBear(id) {
      const bear = await connectBear(gateway.mqttUrl, id, deriveDeviceSecret(fleetKey, id));
      bears.push(bear);
      return bear;
    },
    async stop() {
      await Promise.all(bears.map((b) => b.close()));
      await gateway.close();
      if (!shared) await redis?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestBear {
  readonly id: string;
  readonly client: MqttClient;
  /** Sends a request and resolves with the response carrying its correlation id. */
  request(message: Message & { id: number }, timeoutMs?: number): Promise<Message>;
  /** Publishes raw bytes on the bear's own req topic; resolves with the next response. */
  requestRaw(payload: Uint8Array, timeoutMs?: number): Promise<Message>;
  /** Warm manifests received so far. */
  readonly warms: Warm[];
  /** Resolves when `count` manifests have arrived. */
  waitForWarms(count: number, timeoutMs?: number): Promise<Warm[]>;
  close(): Promise<void>;
}

export async function connectBear(mqttUrl: string, id: string, secret: string): Promise<TestBear> {
  const client = await connectMqtt(mqttUrl, { clientId: id, username: id, password: secret, clean: true });
  // A connection the gateway drops (or a killed gateway resets) ends in 'close', which tests watch.
  client.on('error', () => undefined);
  const pending = new Map<number, (m: Message) => void>();
  const anyResponse: ((m: Message) => void)[] = [];
  const warms: Warm[] = [];
  const warmWaiters: (() => void)[] = [];
  let closing: Promise<void> | undefined;
  client.on('message', (topic, payload) => {
    const message = decodeMessage(payload, Infinity);
    if (topic.endsWith('/warm') && message.type === 'warm') {
      warms.push(message);
      for (const w of warmWaiters.splice(0)) w();
      return;
    }
    const id = 'id' in message ? message.id : 0;
    const waiter = pending.get(id) ?? anyResponse.shift();
    pending.delete(id);
    waiter?.(message);
  });
  await client.subscribeAsync([deviceTopic(id, 'res'), deviceTopic(id, 'warm')], { qos: 1 });

  const awaitResponse = (register: (resolve: (m: Message) => void) => void, timeoutMs: number, what: string): Promise<Message> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${id}: no response to ${what} within ${timeoutMs} ms`)), timeoutMs);
      register((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });

  return {
    id,
    client,
    warms,
    request(message, timeoutMs = 10_000) {
      const response = awaitResponse((r) => pending.set(message.id, r), timeoutMs, message.type);
      client.publish(deviceTopic(id, 'req'), encodeMessage(message), { qos: 1 });
      return response;
    },
    requestRaw(payload, timeoutMs = 10_000) {
      const response = awaitResponse((r) => anyResponse.push(r), timeoutMs, 'raw request');
      client.publish(deviceTopic(id, 'req'), Buffer.from(payload), { qos: 1 });
      return response;
    },
    waitForWarms(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${id}: ${warms.length}/${count} warm manifests after ${timeoutMs} ms`)), timeoutMs);
        const check = (): void => {
          if (warms.length >= count) {
            clearTimeout(timer);
            resolve(warms);
          } else warmWaiters.push(check);
        };
        check();
      });
    },
    // Idempotent (a test may close a bear the harness closes again at the end); forced when the
    // gateway already dropped the connection.
    close() {
      closing ??= client.endAsync(!client.connected);
      return closing;
    },
  };
}

export const textUtterance = (id: number, text: string, voice?: string): Message & { id: number } => ({
  type: 'utterance', id, audio: new TextEncoder().encode(text), format: 2, ...(voice ? { voice } : {}),
});

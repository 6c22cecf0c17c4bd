/**
 * Closed-loop request load over MQTT: N clients, each with one request in
 * flight on its `req` topic and waiting for the response on its `res`
 * topic, cycling through a fixed list of payloads. Identical for every
 * target (gateway, bare Aedes echo, Mosquitto echo), so the numbers compare
 * brokers, not load generators.
 */
import type { MqttClient } from 'mqtt';
import { createLatencyHistogram, recordMs, summarize, type LatencySummary } from '../simulator/histograms.js';
import { decodeMessage, deviceTopic } from '../sdk/protocol/index.js';
import { connectMqtt } from '../test/gateway/mqtt-connect.js';

export interface LoadOptions {
  mqttUrl: string;
  clients: { id: string; password?: string }[];
  payloads: Buffer[];
  warmupMs: number;
  durationMs: number;
  /** The message type a correct response has ('answer' from the gateway, 'utterance' from an echo). */
  expectType: string;
}

export interface LoadResult {
  requests: number;
  /** Responses of the wrong type (e.g. gateway errors). */
  wrong: number;
  reqPerS: number;
  latency: LatencySummary;
}

export async function runRequestLoad(o: LoadOptions): Promise<LoadResult> {
  const connections: MqttClient[] = await Promise.all(
    o.clients.map(async ({ id, password }) => {
      const client = await connectMqtt(o.mqttUrl, { clientId: id, username: id, password, clean: true });
      await client.subscribeAsync(deviceTopic(id, 'res'), { qos: 1 });
      return client;
    }),
  );
  const histogram = createLatencyHistogram();
  let requests = 0;
  let wrong = 0;
  let measuring = false;
  let running = true;

  const loop = async (client: MqttClient, id: string, offset: number): Promise<void> => {
    const topic = deviceTopic(id, 'req');
    let waiter: ((payload: Buffer) => void) | undefined;
    client.on('message', (_t, payload) => waiter?.(payload));
    for (let i = offset; running; i++) {
      const started = performance.now();
      const response = await new Promise<Buffer>((resolve) => {
        waiter = resolve;
        client.publish(topic, o.payloads[i % o.payloads.length]!, { qos: 1 });
      });
      if (!measuring) continue;
      recordMs(histogram, performance.now() - started);
      requests++;
      if (decodeMessage(response, Infinity).type !== o.expectType) wrong++;
    }
  };

  const loops = connections.map((c, i) => loop(c, o.clients[i]!.id, i));
  await new Promise((r) => setTimeout(r, o.warmupMs));
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, o.durationMs));
  measuring = false;
  const elapsedS = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(loops);
  await Promise.all(connections.map((c) => c.endAsync(true)));
  return { requests, wrong, reqPerS: requests / elapsedS, latency: summarize(histogram) };
}

/**
 * Closed-loop request load over MQTT: N clients per target, each with one
 * request in flight on its `req` topic, waiting for the response on its
 * `res` topic, cycling through a fixed list of payloads. Identical for every
 * target (gateway, bare Aedes echo, Mosquitto echo), so the numbers compare
 * brokers, not load generators. Targets are measured in alternating rounds,
 * so a burst of load from elsewhere on a shared machine is spread over all
 * of them instead of landing on one.
 */
import type { MqttClient } from 'mqtt';
import { cpuTicks } from '../simulator/gateway-process.js';
import { createLatencyHistogram, summarizeLatency, type LatencySummary } from '../sdk/index.js';
import { recordMs } from '../simulator/histograms.js';
import { decodeMessage, deviceTopic } from '../protocol/index.js';
import { connectMqtt } from '../test/helpers/mqtt-connect.js';

export interface LoadTarget {
  name: string;
  mqttUrl: string;
  clients: { id: string; password?: string }[];
  /** The message type a correct response has ('answer' from the gateway, 'utterance' from an echo). */
  expectType: string;
  /** Server processes whose CPU time is charged to this target. */
  pids: number[];
}

export interface LoadOptions {
  payloads: Buffer[];
  warmupMs: number;
  rounds: number;
  roundMs: number;
}

export interface LoadResult {
  requests: number;
  /** Responses of the wrong type (e.g. gateway errors). */
  wrong: number;
  reqPerS: number;
  /** Server CPU time (user + system, all `pids`) per request, µs. */
  serverCpuUsPerRequest: number;
  latency: LatencySummary;
}

interface Connection {
  client: MqttClient;
  topic: string;
  next: number;
  waiter?: (payload: Buffer) => void;
}

export async function runRequestLoad(targets: LoadTarget[], o: LoadOptions): Promise<Record<string, LoadResult>> {
  const connected = await Promise.all(targets.map((t) => connectAll(t)));
  const results: Record<string, LoadResult> = {};
  try {
    for (const c of connected) await drive(c, o.payloads, o.warmupMs, () => undefined);
    const histograms = targets.map(() => createLatencyHistogram());
    const totals = targets.map(() => ({ requests: 0, wrong: 0, ms: 0, ticks: 0 }));
    for (let round = 0; round < o.rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const total = totals[i]!;
        const started = performance.now();
        const ticks = serverTicks(t);
        await drive(connected[i]!, o.payloads, o.roundMs, (ms, response) => {
          recordMs(histograms[i]!, ms);
          total.requests++;
          if (decodeMessage(response, Infinity).type !== t.expectType) total.wrong++;
        });
        total.ms += performance.now() - started;
        total.ticks += serverTicks(t) - ticks;
      }
    }
    for (const [i, t] of targets.entries()) {
      const total = totals[i]!;
      results[t.name] = {
        requests: total.requests,
        wrong: total.wrong,
        reqPerS: (total.requests * 1000) / total.ms,
        serverCpuUsPerRequest: (total.ticks * US_PER_TICK) / total.requests,
        latency: summarizeLatency(histograms[i]!),
      };
    }
    return results;
  } finally {
    await Promise.all(connected.flat().map((c) => c.client.endAsync(true)));
  }
}

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ). */
const US_PER_TICK = 10_000;

function serverTicks(t: LoadTarget): number {
  return t.pids.reduce((sum, pid) => sum + (cpuTicks(pid) ?? 0), 0);
}

async function connectAll(t: LoadTarget): Promise<Connection[]> {
  return Promise.all(
    t.clients.map(async ({ id, password }, i) => {
      const client = await connectMqtt(t.mqttUrl, { clientId: id, username: id, password, clean: true });
      await client.subscribeAsync(deviceTopic(id, 'res'), { qos: 1 });
      const c: Connection = { client, topic: deviceTopic(id, 'req'), next: i };
      client.on('message', (_topic, payload) => c.waiter?.(payload));
      return c;
    }),
  );
}

/** Runs every connection's closed loop for `ms`; in-flight requests finish (and are recorded) after. */
async function drive(connections: Connection[], payloads: Buffer[], ms: number, record: (ms: number, response: Buffer) => void): Promise<void> {
  let running = true;
  const timer = setTimeout(() => (running = false), ms);
  await Promise.all(
    connections.map(async (c) => {
      while (running) {
        const started = performance.now();
        const response = await new Promise<Buffer>((resolve) => {
          c.waiter = resolve;
          c.client.publish(c.topic, payloads[c.next++ % payloads.length]!, { qos: 1 });
        });
        record(performance.now() - started, response);
      }
    }),
  );
  clearTimeout(timer);
}

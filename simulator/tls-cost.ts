/**
 * What TLS costs on the gateway under test, measured in the same run: after
 * the fleet, the same number of probe bears connect over plaintext MQTT and
 * over MQTTS (trusting the gateway's CA), a few at a time; for each
 * transport, connect time (TCP + TLS handshake + CONNECT/CONNACK), the
 * gateway's CPU per connect (from /proc), and its RSS per connection held
 * open. A round of plaintext connections opened and closed first sizes the
 * gateway's heap, and the plaintext ones stay open while the TLS ones are
 * measured, so neither reuses memory the other freed (RSS never shrinks).
 * Ratios are TLS over plaintext.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { summarizeLatency, type LatencySummary } from '../sdk/index.js';
import { cpuTicks, procStatus } from './gateway-process.js';
import { createLatencyHistogram, recordMicros } from '../sdk/index.js';

export interface TransportCost {
  connect: LatencySummary;
  /** Gateway CPU per connect, milliseconds. */
  cpuMsPerConnect: number;
  /** Gateway RSS growth per connection held open, KiB. */
  rssKiBPerConnection: number;
}

export interface TlsCost {
  connections: number;
  plaintext: TransportCost;
  tls: TransportCost;
  ratios: { connectP50: number; cpuPerConnect: number; rssPerConnection: number };
}

export interface TlsCostOptions {
  pid: number;
  mqttUrl: string;
  mqttsUrl: string;
  ca: Buffer;
  secretFor(deviceId: string): string;
  connections: number;
}

const AT_ONCE = 10;
const CLOCK_TICKS_PER_S = 100;

/** Opens `o.connections` connections (kept in `clients`); what they cost. */
async function measure(o: TlsCostOptions, url: string, tls: boolean, clients: MqttClient[], round: string): Promise<TransportCost> {
  const latency = createLatencyHistogram();
  const rssBefore = procStatus(o.pid)?.rssMB ?? 0;
  const ticksBefore = cpuTicks(o.pid) ?? 0;
  for (let i = 0; i < o.connections; i += AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(AT_ONCE, o.connections - i) }, async (_, j) => {
        const id = `tlsprobe-${round}-${i + j}`;
        const started = performance.now();
        const client = await mqtt.connectAsync(url, {
          clientId: id, username: id, password: o.secretFor(id), protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000,
          ...(tls ? { ca: o.ca } : {}),
        });
        recordMicros(latency, (performance.now() - started) * 1000);
        clients.push(client);
      }),
    );
  }
  const ticks = (cpuTicks(o.pid) ?? 0) - ticksBefore;
  const rssAfter = procStatus(o.pid)?.rssMB ?? 0;
  return {
    connect: summarizeLatency(latency),
    cpuMsPerConnect: (ticks * 1000) / CLOCK_TICKS_PER_S / o.connections,
    rssKiBPerConnection: (Math.max(0, rssAfter - rssBefore) * 1024) / o.connections,
  };
}

export async function measureTlsCost(o: TlsCostOptions): Promise<TlsCost> {
  const open: MqttClient[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(open.splice(0).map((c) => c.endAsync(true)));
  };
  try {
    await measure(o, o.mqttUrl, false, open, 'warm');
    await closeAll();
    const plaintext = await measure(o, o.mqttUrl, false, open, 'p');
    const tls = await measure(o, o.mqttsUrl, true, open, 's');
    return costOf(o.connections, plaintext, tls);
  } finally {
    await closeAll();
  }
}

function costOf(connections: number, plaintext: TransportCost, tls: TransportCost): TlsCost {
  const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);
  return {
    connections,
    plaintext,
    tls,
    ratios: {
      connectP50: ratio(tls.connect.p50Ms, plaintext.connect.p50Ms),
      cpuPerConnect: ratio(tls.cpuMsPerConnect, plaintext.cpuMsPerConnect),
      rssPerConnection: ratio(tls.rssKiBPerConnection, plaintext.rssKiBPerConnection),
    },
  };
}

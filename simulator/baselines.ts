/**
 * Baselines measured in the same run, under the same machine load, so the
 * report can say what the caches buy:
 * - Transport floor: a bare mosquitto broker with an echo client; a probe
 *   sends utterance-sized payloads and times the round trip. Nothing can
 *   answer faster than this over MQTT on this machine.
 * - No cache: after the fleet is done, a probe bear on the gateway under test
 *   whose every utterance is new text, so no cache layer can have it (the
 *   provider path), next to one repeating itself (the cached path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { UtteranceFormat } from '../protocol/index.js';
import type { ClipFetcher } from './clip-fetcher.js';
import { createLatencyHistogram, type Histogram } from '../sdk/index.js';
import { recordMs } from './histograms.js';
import type { Rng } from './rng.js';
import { createRunMetrics, type RunMetrics } from './run-metrics.js';
import { createVirtualBear } from './virtual-bear.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../infra/free-port.js';

export interface TransportFloor {
  readonly latency: Histogram;
  stop(): Promise<void>;
}

/** Starts mosquitto on a free loopback port; resolves once it accepts MQTT connections. */
export async function startMosquitto(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'teddy-floor-'));
  const port = await freePort();
  writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n`);
  const child: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 50; i++) {
    const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 }).catch(() => undefined);
    if (probe) {
      await probe.endAsync();
      return { url, stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error('mosquitto did not start (is it installed? scripts/bootstrap.sh installs it)');
}

/** Echo round trips through a bare broker at `ratePerS`, with payloads of `payloadBytes`. */
export async function startTransportFloor(ratePerS: number, payloadBytes: number): Promise<TransportFloor> {
  const broker = await startMosquitto();
  const echo = await mqtt.connectAsync(broker.url, { clientId: 'floor-echo', reconnectPeriod: 0 });
  const probe = await mqtt.connectAsync(broker.url, { clientId: 'floor-probe', reconnectPeriod: 0 });
  // Same socket options as the virtual bears (virtual-bear.ts: TCP_NODELAY).
  for (const c of [echo, probe]) (c.stream as Socket).setNoDelay?.(true);
  await echo.subscribeAsync('floor/req', { qos: 1 });
  await probe.subscribeAsync('floor/res', { qos: 1 });
  echo.on('message', (_topic, payload) => echo.publish('floor/res', payload, { qos: 1 }));
  const latency = createLatencyHistogram();
  const sent = new Map<number, number>();
  probe.on('message', (_topic, payload) => {
    const n = payload.readUInt32BE(0);
    const at = sent.get(n);
    if (at === undefined) return;
    sent.delete(n);
    recordMs(latency, performance.now() - at);
  });
  let n = 0;
  const timer = setInterval(() => {
    const payload = Buffer.alloc(payloadBytes);
    payload.writeUInt32BE(++n, 0);
    sent.set(n, performance.now());
    probe.publish('floor/req', payload, { qos: 1 });
  }, 1000 / ratePerS);
  return {
    latency,
    async stop() {
      clearInterval(timer);
      await Promise.all([echo.endAsync(), probe.endAsync()]);
      await broker.stop();
    },
  };
}

export interface ProviderPathBaseline {
  /** Every utterance new text: no cache layer can have it. */
  noCache: RunMetrics;
  /** The same text every time (after a first, warming request): served from cache. */
  cached: RunMetrics;
}

export interface ProviderPathOptions {
  mqttUrl: () => string;
  secretFor: (deviceId: string) => string;
  fetcher: ClipFetcher;
  rng: Rng;
  /** Utterances of each kind. */
  requests: number;
  ratePerS: number;
  requestTimeoutMs: number;
  /** The gateway's CA, when mqttUrl is mqtts://. */
  ca?: Buffer;
}

/**
 * Two probe bears on the gateway under test, run after the fleet has finished
 * (so the fleet's counters stay clean and both sides of the comparison see
 * the same idle gateway): one only ever says something new, one repeats itself.
 */
export async function measureProviderPath(o: ProviderPathOptions): Promise<ProviderPathBaseline> {
  const nonce = Date.now().toString(36);
  const probe = async (name: string, text: (n: number) => string) => {
    const metrics = createRunMetrics(1000);
    const id = `simprobe-${name}-${nonce}`;
    const bear = createVirtualBear({
      id, secret: o.secretFor(id), mqttUrl: o.mqttUrl, flashBudget: 0, fw: 'sim-probe',
      audioFor: (n) => Buffer.from(text(n)), audioFormat: UtteranceFormat.text,
      metrics, fetcher: o.fetcher, rng: o.rng, requestTimeoutMs: o.requestTimeoutMs, maxAttempts: 1, connectTimeoutMs: 10_000, ca: o.ca,
    });
    await bear.connect();
    return { bear, metrics };
  };
  const fresh = await probe('new', (n) => `tell me something new, number ${n} of probe ${nonce}`);
  const same = await probe('same', () => 'tell me a story');
  same.bear.say(0); // warms the caches; its answer is not counted below
  await waitIdle(same.bear, o.requestTimeoutMs);
  same.metrics.answerLatency.reset();
  for (let n = 1; n <= o.requests; n++) {
    fresh.bear.say(n);
    same.bear.say(n);
    await sleep(1000 / o.ratePerS);
  }
  await Promise.all([waitIdle(fresh.bear, o.requestTimeoutMs), waitIdle(same.bear, o.requestTimeoutMs)]);
  await Promise.all([fresh.bear.close(), same.bear.close()]);
  return { noCache: fresh.metrics, cached: same.metrics };
}

async function waitIdle(bear: { pending: number }, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (bear.pending > 0 && Date.now() < until) await sleep(20);
}


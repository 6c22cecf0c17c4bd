/**
 * The gateway as the simulator runs it: a child started through the real CLI,
 * sampled from /proc, restarted on the same ports, its warm command and
 * metrics endpoint reachable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { cpuTicks, procStatus, startGatewayProcess, type GatewayProcess } from '../../simulator/gateway-process.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

const dataDir = mkdtempSync(join(tmpdir(), 'teddy-gwproc-'));
const fleetKey = 'test-fleet-key';
let gateway: GatewayProcess;
// The test's own Redis: the last test SIGKILLs the gateway, which would orphan an embedded one.
let redis: RedisHandle;

beforeAll(async () => {
  redis = await startRedis();
  gateway = await startGatewayProcess({ dataDir, fleetKey, redisUrl: redis.url, logFile: join(dataDir, 'gateway.log') });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const connectBear = (url: string) =>
  mqtt.connectAsync(url, { clientId: 'gwproc-bear', username: 'gwproc-bear', password: deriveDeviceSecret(fleetKey, 'gwproc-bear'), reconnectPeriod: 0 });

describe('gateway child process', () => {
  it('reads CPU and memory of a live process from /proc, nothing of a missing one', () => {
    expect(cpuTicks(process.pid)).toBeGreaterThanOrEqual(0);
    expect(procStatus(process.pid)!.rssMB).toBeGreaterThan(1);
    expect(cpuTicks(2 ** 22 + 1)).toBeUndefined();
    expect(procStatus(2 ** 22 + 1)).toBeUndefined();
  });

  it('starts through the CLI, accepts fleet-provisioned bears and is sampled', async () => {
    const bear = await connectBear(gateway.mqttUrl);
    await bear.endAsync();
    await new Promise((r) => setTimeout(r, 2200));
    expect(gateway.samples.length).toBeGreaterThanOrEqual(1);
    expect(gateway.samples[0]!.rssMB).toBeGreaterThan(10);
    expect(gateway.peakRssMB).toBeGreaterThan(10);
  });

  it('pushes warm manifests through the CLI and exposes counters', async () => {
    await gateway.pushWarm();
    const counters = await gateway.counters();
    expect(counters).toBeDefined();
  });

  it('restarts on the same ports with a new process', async () => {
    const { mqttUrl, httpUrl, pid } = gateway;
    await gateway.restart();
    expect(gateway.mqttUrl).toBe(mqttUrl);
    expect(gateway.httpUrl).toBe(httpUrl);
    expect(gateway.pid).not.toBe(pid);
    expect(gateway.restarts).toBe(1);
    expect(procStatus(pid)).toBeUndefined();
    const bear = await connectBear(mqttUrl);
    await bear.endAsync();
    expect(gateway.crashes).toEqual([]);
  }, 60_000);

  it('records an exit nobody asked for as a crash', async () => {
    process.kill(gateway.pid, 'SIGKILL');
    for (let i = 0; i < 100 && gateway.crashes.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(gateway.crashes).toHaveLength(1);
    expect(gateway.crashes[0]!.signal).toBe('SIGKILL');
  });
});

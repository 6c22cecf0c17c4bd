/**
 * Fail-over, end to end: the host build of the bear (`teddy-bear`) with two
 * `--gateway` URLs against two real gateways (same fleet key and Redis,
 * separate processes' worth of state: each its own data dir). The bear is on
 * the first when the child speaks; that gateway is slow to answer and is
 * closed while the request is in flight. The bear must come back on the
 * second, send the request again (same correlation id, firmware/test/
 * test_session.cpp checks the id) and get exactly one answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { startGateway, type Gateway } from '../../gateway/index.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { Bear, ensureBinary } from '../helpers/teddy-bear.js';

const fleetKey = 'bear-failover-fleet';

describe('teddy-bear fails over between gateways', () => {
  let redis: RedisHandle;
  const dirs: string[] = [];
  let first: Gateway | undefined;
  let second: Gateway | undefined;
  let bear: Bear | undefined;

  const start = (providerLatencyMs: number) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'teddy-failover-gw-'));
    dirs.push(dataDir);
    return startGateway({ mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0, dataDir, redisUrl: redis.url, fleetKey, providerLatencyMs, logLevel: 'silent' });
  };

  beforeAll(async () => {
    ensureBinary();
    redis = await startRedis();
  }, 300_000);

  afterAll(async () => {
    await bear?.quit();
    await first?.close();
    await second?.close();
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('comes back on the other gateway when the one it is on dies, and gets its answer once', async () => {
    first = await start(3000);  // slow: the answer is still being made when it dies
    second = await start(0);
    const work = mkdtempSync(join(tmpdir(), 'teddy-failover-bear-'));
    dirs.push(work);
    bear = new Bear(['--gateway', first.mqttUrl, '--gateway', second.mqttUrl, '--device', 'bear-failover',
      '--secret', deriveDeviceSecret(fleetKey, 'bear-failover'), '--flash', join(work, 'flash.bin'), '--budget', '256KB']);
    expect(await bear.next((e) => e.event === 'ready', 'ready')).toMatchObject({ gateway: first.mqttUrl });

    bear.send('say tell me a story about the moon');
    await sleep(500);  // the utterance has reached the first gateway, whose provider takes 3 s
    await first.close();
    first = undefined;

    await bear.next((e) => e.event === 'disconnected', 'disconnected');
    expect(await bear.next((e) => e.event === 'ready', 'ready on the second gateway', 15_000)).toMatchObject({ gateway: second.mqttUrl });
    const answer = await bear.next((e) => e.event === 'answer', 'the answer, from the second gateway', 15_000);
    expect(typeof answer.reply).toBe('string');
    await bear.next((e) => e.event === 'play' && e.clip === answer.clip, 'play of the answer');

    // Answered once: no second answer turns up (the request was completed by the first one).
    await sleep(1000);
    expect(bear.events.filter((e) => e.event === 'answer')).toHaveLength(1);
    expect(bear.events.filter((e) => e.event === 'error' && e.what === 'utterance')).toEqual([]);
    expect(await bear.quit()).toBe(0);
    bear = undefined;
  }, 90_000);
});

/**
 * End to end, over TLS: the host build of the bear's firmware (`teddy-bear`:
 * the real session, codec and flash clip store over libmosquitto and libcurl)
 * against the real gateway, Redis and HTTPS origin, on the gateway's mqtts://
 * listener with the data dir's fleet CA (`--ca`); a bear on TLS gets https://
 * clip URLs. A warm push arrives and is stored and verified; with the gateway
 * gone a play is served from flash; a new gateway on the same ports and data
 * dir (same CA) gets the bear back and answers it; after a reboot the bear
 * still plays its clips from the flash file. A bear with a client certificate
 * from `device add --cert` logs in by it (mutual TLS), its secret unused.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../gateway/index.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { Bear, binary, ensureBinary } from '../helpers/teddy-bear.js';

describe('teddy-bear against the real gateway', () => {
  let redis: RedisHandle;
  let dataDir: string;
  let work: string;
  let gateway: Gateway | undefined;
  let bear: Bear | undefined;

  type Ports = { mqttPort: number; httpPort: number; mqttsPort: number; httpsPort: number };
  const start = (ports: Ports) => startGateway({ ...ports, dataDir, redisUrl: redis.url, providerLatencyMs: 0, logLevel: 'silent' });
  const portOf = (url: string) => Number(new URL(url).port);

  beforeAll(async () => {
    ensureBinary();
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'teddy-e2e-gw-'));
    work = mkdtempSync(join(tmpdir(), 'teddy-e2e-bear-'));
  }, 300_000);

  afterAll(async () => {
    await bear?.quit();
    await gateway?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('behaves like a CLI: --help exits 0, bad arguments exit 2 with the reason on stderr, SIGTERM exits 0', async () => {
    expect(execFileSync(binary, ['--help'], { encoding: 'utf8' })).toMatch(/^usage: teddy-bear/);
    const bad = (args: string[]) => {
      try {
        execFileSync(binary, args, { encoding: 'utf8', stdio: 'pipe' });
        return { status: 0, stderr: '' };
      } catch (err) {
        const e = err as { status: number; stderr: string };
        return { status: e.status, stderr: e.stderr };
      }
    };
    const base = ['--gateway', 'mqtt://127.0.0.1:1', '--device', 'b', '--secret', 's', '--flash', join(work, 'x')];
    expect(bad([...base, '--budget', '1XB'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--budget/) });
    expect(bad([...base, '--device', 'a/b'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--device/) });
    expect(bad(['--gateway', 'http://x'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--gateway/) });

    // No gateway there: it keeps retrying (reporting each refused connect) until told to stop.
    const lonely = new Bear([...base.slice(0, -1), join(work, 'lonely.flash')]);
    await lonely.next((e) => e.event === 'error' && e.what === 'connect', 'a refused connect');
    expect(await lonely.terminate()).toBe(0);
  });

  it('over TLS: stores a warm push, plays from flash without network, and survives a gateway restart', async () => {
    gateway = await start({ mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0 });
    const ports: Ports = {
      mqttPort: portOf(gateway.mqttUrl), httpPort: portOf(gateway.httpUrl), mqttsPort: portOf(gateway.mqttsUrl), httpsPort: portOf(gateway.httpsUrl),
    };
    const { secret } = await gateway.devices.add('bear-e2e');
    const flash = join(work, 'flash.bin');
    const bearArgs = ['--gateway', `mqtts://127.0.0.1:${ports.mqttsPort}`, '--ca', gateway.caFile, '--device', 'bear-e2e',
      '--secret', secret, '--flash', flash, '--budget', '1MB'];
    bear = new Bear(bearArgs);

    // Hello, then the warm push: every clip downloaded over HTTPS, SHA-256 verified by the store's commit.
    await bear.next((e) => e.event === 'ready', 'ready');
    const warm = await bear.next((e) => e.event === 'warm', 'warm');
    const stored = warm.stored as string[];
    expect(stored.length).toBeGreaterThan(0);
    expect(warm.failed).toEqual([]);
    expect(warm.seq).toBeGreaterThan(0);
    expect(statSync(flash).size).toBeGreaterThan(0);
    bear.send('stats');
    const stats = await bear.next((e) => e.event === 'stats', 'stats');
    expect(stats.clipCount).toBe(stored.length);
    expect(stats).toMatchObject({ inboxDropped: 0, outboxDropped: 0 });  // the bridge's queues had room for the warm-up

    // An answer through the gateway, played (from flash if it is a warm clip, else inline or downloaded).
    bear.send('say hello teddy');
    const answer = await bear.next((e) => e.event === 'answer', 'answer');
    expect(typeof answer.reply).toBe('string');
    const played = await bear.next((e) => e.event === 'play' && e.clip === answer.clip, 'play of the answer');
    expect(played.bytes).toBeGreaterThan(0);

    // No network at all: the gateway (MQTT and the HTTP origin) is gone; a stored clip still plays from flash.
    await gateway.close();
    gateway = undefined;
    await bear.next((e) => e.event === 'disconnected', 'disconnected');
    bear.send(`play ${stored[0]}`);
    // (Reconnect attempts report `connect` errors meanwhile; a failed play would be a `play` error.)
    const offline = await bear.next((e) => e.event === 'play' || (e.event === 'error' && e.what === 'play'), 'offline play');
    expect(offline).toMatchObject({ event: 'play', clip: stored[0], from: 'flash' });
    expect(offline.bytes).toBeGreaterThan(0);

    // A new gateway on the same ports and data dir (the same CA): the bear reconnects by itself (backoff) and is answered.
    gateway = await start(ports);
    await bear.next((e) => e.event === 'ready', 'ready after the restart', 45_000);
    bear.send('say tell me a story');
    const again = await bear.next((e) => e.event === 'answer', 'answer after the restart');
    expect(typeof again.reply).toBe('string');

    expect(await bear.quit()).toBe(0);

    // The bear reboots: its flash file still holds the verified clips and tells the gateway so.
    bear = new Bear(bearArgs);
    await bear.next((e) => e.event === 'ready', 'ready after the reboot');
    bear.send(`play ${stored[1] ?? stored[0]}`);
    expect(await bear.next((e) => e.event === 'play', 'play after the reboot')).toMatchObject({ from: 'flash' });
    expect(await bear.quit()).toBe(0);
    bear = undefined;
  }, 120_000);

  it('mutual TLS: a bear with the certificate `device add --cert` issued is let in without its secret', async () => {
    gateway = await start({ mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0 });
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', 'device', 'add', 'bear-mtls', '--cert', '--json',
      '--data-dir', dataDir, '--redis-url', redis.url]);
    const issued = JSON.parse(stdout) as { certFile: string; keyFile: string; caFile: string };
    bear = new Bear(['--gateway', gateway.mqttsUrl, '--ca', issued.caFile, '--cert', issued.certFile, '--key', issued.keyFile,
      '--device', 'bear-mtls', '--secret', 'not-its-secret', '--flash', join(work, 'mtls.flash'), '--budget', '256KB']);
    await bear.next((e) => e.event === 'ready', 'ready over mutual TLS');
    bear.send('say hello teddy');
    expect(typeof (await bear.next((e) => e.event === 'answer', 'answer over mutual TLS')).reply).toBe('string');
    expect(await bear.quit()).toBe(0);
    bear = undefined;
    await gateway.close();
    gateway = undefined;
  }, 120_000);
});

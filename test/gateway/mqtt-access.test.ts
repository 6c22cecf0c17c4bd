/**
 * Who may connect and what they may touch, over real sockets: Debian's
 * mosquitto clients as an independent implementation, mqtt.js for the ACL.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type ErrorWithSubackPacket } from 'mqtt';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { decodeMessage, deviceTopic, encodeMessage, ErrorCode } from '../../protocol/index.js';
import { connectBear, startTestGateway, textUtterance, type TestGateway } from './harness.js';

const run = promisify(execFile);
let t: TestGateway;
let host: string;
let port: string;

beforeAll(async () => {
  // Latency keeps the answer in flight until mosquitto_pub has disconnected (see the first test).
  t = await startTestGateway({ providerLatencyMs: 150 });
  ({ hostname: host, port } = new URL(t.gateway.mqttUrl));
});
afterAll(() => t?.stop());

const mosquittoArgs = (id: string, secret: string): string[] => ['-h', host, '-p', port, '-i', id, '-u', id, '-P', secret, '-V', 'mqttv311'];

describe('mosquitto clients with a registered device', () => {
  it('publish a CBOR request with mosquitto_pub and read the CBOR answer with mosquitto_sub', async () => {
    const { id, secret } = await t.gateway.devices.add('mosquitto-bear');
    const request = join(t.dataDir, 'request.cbor');
    writeFileSync(request, encodeMessage(textUtterance(41, 'tell me a joke')));
    // client id = username = device id for both tools, so they share one persistent session (-c):
    // mosquitto_sub subscribes and leaves, mosquitto_pub sends, the broker queues the QoS 1 answer,
    // mosquitto_sub comes back for it.
    await run('mosquitto_sub', [...mosquittoArgs(id, secret), '-c', '-q', '1', '-t', deviceTopic(id, 'res'), '-E']);
    await run('mosquitto_pub', [...mosquittoArgs(id, secret), '-c', '-q', '1', '-t', deviceTopic(id, 'req'), '-f', request]);
    const { stdout } = await run(
      'mosquitto_sub',
      [...mosquittoArgs(id, secret), '-c', '-q', '1', '-t', deviceTopic(id, 'res'), '-C', '1', '-N', '-W', '20'],
      { encoding: 'buffer' },
    );
    const answer = decodeMessage(stdout);
    expect(answer).toMatchObject({ type: 'answer', id: 41, source: 0 });
    expect(answer.type === 'answer' && answer.reply).toMatch(/bear/i);
  });

  it('refuses wrong credentials, unknown devices and a client id other than the username', async () => {
    const { id, secret } = await t.gateway.devices.add('mosquitto-bear-2');
    const pub = (args: string[]) => run('mosquitto_pub', [...args, '-t', deviceTopic(id, 'req'), '-m', 'x']);
    await expect(pub(mosquittoArgs(id, `${secret}x`))).rejects.toMatchObject({ stderr: expect.stringMatching(/bad user name or password/i) });
    await expect(pub(mosquittoArgs('nobody', secret))).rejects.toMatchObject({ stderr: expect.stringMatching(/refused/i) });
    await expect(pub(['-h', host, '-p', port, '-i', 'other-id', '-u', id, '-P', secret])).rejects.toMatchObject({
      stderr: expect.stringMatching(/not authori[sz]ed/i),
    });
    await expect(pub(mosquittoArgs(id, secret))).resolves.toBeDefined();
    expect(t.logs.join('')).not.toContain(secret);
  });

  it('accepts a fleet-derived secret without a registry entry, and nothing else for that id', async () => {
    const id = 'fleet-bear-1';
    const bear = await t.connectFleetBear(id);
    expect(await bear.request(textUtterance(1, 'good night teddy'))).toMatchObject({ type: 'answer', id: 1 });
    await bear.close();
    await expect(connectBear(t.gateway.mqttUrl, id, deriveDeviceSecret('another-fleet', id))).rejects.toThrow(/bad username or password|Not authorized/i);
  });

  it('removing a device disconnects it and refuses it afterwards', async () => {
    const { id, secret } = await t.gateway.devices.add('short-lived-bear');
    const bear = await connectBear(t.gateway.mqttUrl, id, secret);
    const closed = new Promise<void>((resolve) => bear.client.once('close', () => resolve()));
    expect(await t.gateway.devices.remove(id)).toBe(true);
    await closed;
    await expect(connectBear(t.gateway.mqttUrl, id, secret)).rejects.toThrow();
  });
});

describe('topic ACL', () => {
  it("bear A can neither subscribe to nor publish on bear B's topics", async () => {
    const a = await t.connectFleetBear('acl-bear-a');
    const b = await t.connectFleetBear('acl-bear-b');
    const received: string[] = [];
    b.client.on('message', (topic) => received.push(topic));

    for (const topic of [deviceTopic('acl-bear-b', 'res'), deviceTopic('acl-bear-b', 'warm'), 'teddy/v1/+/res', '#', deviceTopic('acl-bear-a', 'req')]) {
      // mqtt.js rejects a subscription the broker refused; the SUBACK return code is on the error.
      const refused = await a.client.subscribeAsync(topic, { qos: 1 }).then(() => undefined, (err: ErrorWithSubackPacket) => err);
      expect(refused?.packet.granted, topic).toEqual([128]);
    }

    // A publish on another bear's request topic: dropped, the offender disconnected, no answer anywhere.
    const aClosed = new Promise<void>((resolve) => a.client.once('close', () => resolve()));
    a.client.publish(deviceTopic('acl-bear-b', 'req'), encodeMessage(textUtterance(7, 'i love you')), { qos: 1 });
    await aClosed;
    // B still works and has received nothing but its own answer.
    expect(await b.request(textUtterance(8, 'i love you'))).toMatchObject({ type: 'answer', id: 8 });
    expect(received).toEqual([deviceTopic('acl-bear-b', 'res')]);

    const denials = t.logs.filter((l) => l.includes('acl denied'));
    expect(denials.some((l) => l.includes('"deviceId":"acl-bear-a"') && l.includes('"action":"publish"'))).toBe(true);
    expect(denials.some((l) => l.includes('"action":"subscribe"'))).toBe(true);
    expect(denials.join('')).not.toContain('love');
  });

  it('rate-limits each bear separately: a burst beyond the bucket gets rateLimited with its ids', async () => {
    // Default limits: burst 20, 10 per second.
    const greedy = await t.connectFleetBear('greedy-bear');
    const calm = await t.connectFleetBear('calm-bear');
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => greedy.request({ type: 'clipGet', id: i + 1, clipId: new Uint8Array(8) })),
    );
    const limited = responses.filter((r) => r.type === 'error' && r.code === ErrorCode.rateLimited);
    expect(limited.length).toBeGreaterThanOrEqual(15);
    expect(responses.filter((r) => r.type === 'error' && r.code === ErrorCode.notFound).length).toBeGreaterThanOrEqual(20);
    expect(new Set(responses.map((r) => ('id' in r ? r.id : 0))).size).toBe(40);
    expect(await calm.request(textUtterance(1, 'i am sad'))).toMatchObject({ type: 'answer', id: 1 });
  });

  it('serves the same protocol, auth and ACL over WebSocket on the HTTP port', async () => {
    const id = 'ws-bear';
    const ws = await mqtt.connectAsync(t.gateway.mqttWsUrl, { clientId: id, username: id, password: deriveDeviceSecret(t.fleetKey, id), reconnectPeriod: 0 });
    try {
      await ws.subscribeAsync(deviceTopic(id, 'res'), { qos: 1 });
      const answered = new Promise<Buffer>((resolve) => ws.once('message', (_topic, payload) => resolve(payload)));
      await ws.publishAsync(deviceTopic(id, 'req'), encodeMessage(textUtterance(3, 'what sound does a cow make')), { qos: 1 });
      expect(decodeMessage(await answered)).toMatchObject({ type: 'answer', id: 3 });
      const refused = await ws.subscribeAsync(deviceTopic('other-bear', 'res')).then(() => undefined, (err: ErrorWithSubackPacket) => err);
      expect(refused?.packet.granted).toEqual([128]);
    } finally {
      await ws.endAsync();
    }
    await expect(mqtt.connectAsync(t.gateway.mqttWsUrl, { clientId: id, username: id, password: 'wrong-secret', reconnectPeriod: 0 })).rejects.toThrow(/bad username or password/i);
    const elsewhere = new WebSocket(t.gateway.mqttWsUrl.replace(/\/mqtt$/, '/clips'));
    await expect(new Promise((resolve, reject) => elsewhere.once('open', resolve).once('error', reject))).rejects.toThrow();
  });
});

/**
 * The gateway speaks MQTT 3.1.1 only (Aedes 1.x has no MQTT 5): a v5 client
 * is refused with "unsupported protocol version" (mqtt.js and Debian's
 * mosquitto_pub as an independent client), a 3.1.1 one is served, and
 * docs/protocol.md says so.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { deviceTopic } from '../../protocol/index.js';
import { startTestGateway, type TestGateway } from './harness.js';

const run = promisify(execFile);
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.stop());

describe('MQTT protocol version', () => {
  it('refuses an MQTT 5 client and serves a 3.1.1 one', async () => {
    const id = 'v5-bear';
    const password = deriveDeviceSecret(t.fleetKey, id);
    const v5 = await mqtt
      .connectAsync(t.gateway.mqttUrl, { clientId: id, username: id, password, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 })
      .then((c) => c.endAsync().then(() => undefined), (err: Error) => err);
    expect(v5?.message).toMatch(/unsupported protocol version|unacceptable protocol version/i);
    const { hostname, port } = new URL(t.gateway.mqttUrl);
    const base = ['-h', hostname, '-p', port, '-i', id, '-u', id, '-P', password, '-t', deviceTopic(id, 'evt'), '-m', 'x'];
    await expect(run('mosquitto_pub', [...base, '-V', 'mqttv5'])).rejects.toMatchObject({ stderr: expect.stringMatching(/unsupported protocol version|protocol version/i) });
    await expect(run('mosquitto_pub', [...base, '-V', 'mqttv311'])).resolves.toBeDefined();
  });

  it('is what docs/protocol.md says', () => {
    const doc = readFileSync('docs/protocol.md', 'utf8');
    expect(doc).toMatch(/MQTT 3\.1\.1 only/);
    expect(doc).not.toMatch(/MQTT 5 (brokers and )?clients work/i);
  });
});

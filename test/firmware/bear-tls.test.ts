/**
 * The bear's host build over TLS: `teddy-bear --gateway mqtts://… --ca FILE`
 * against a real mosquitto with TLS listeners and certificates made with
 * Debian's openssl (tls-fixture.ts), and a clip served over real HTTPS (node's
 * https with the same server certificate) that libcurl fetches in Range
 * chunks on one kept-alive TLS connection. The test plays the gateway's part
 * on a loopback plaintext listener of the same broker: welcome, then an
 * answer naming the HTTPS clip. A server certificate from an unknown CA is
 * refused; the mutual-TLS listener admits the bear with --cert/--key and
 * refuses it without.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, deviceTopic, encodeMessage } from '../../protocol/index.js';
import { connectMqtt } from '../helpers/mqtt-connect.js';
import { Bear, ensureBinary } from '../helpers/teddy-bear.js';
import { makeCertificates, removeCertificates, startTlsBroker, type Certificates, type TlsBroker } from './tls-fixture.js';

const device = 'bear-tls';
const clipBytes = randomBytes(6000);  // two 4 KiB Range chunks
const clipId = Buffer.from('c1c1c1c1c1c1c1c1', 'hex');

describe('teddy-bear over TLS (mqtts:// and https://)', () => {
  let certs: Certificates;
  let broker: TlsBroker;
  let origin: Server;
  let originUrl: string;
  let gatewaySide: MqttClient;
  let work: string;
  const bears: Bear[] = [];
  const tlsConnections: number[] = [];
  const rangeRequests: string[] = [];

  beforeAll(async () => {
    ensureBinary();
    certs = makeCertificates(device);
    broker = await startTlsBroker(certs);
    work = mkdtempSync(join(tmpdir(), 'teddy-tls-bear-'));

    origin = createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), minVersion: 'TLSv1.2' }, (req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (req.url !== '/clips/c1' || !m) return res.writeHead(404).end();
      rangeRequests.push(req.headers.range!);
      const from = Number(m[1]);
      const to = Math.min(Number(m[2]), clipBytes.length - 1);
      res.writeHead(206, { 'content-range': `bytes ${from}-${to}/${clipBytes.length}`, 'content-length': to - from + 1 });
      res.end(clipBytes.subarray(from, to + 1));
    });
    origin.on('secureConnection', () => tlsConnections.push(Date.now()));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `https://127.0.0.1:${(origin.address() as AddressInfo).port}/clips/c1`;

    // The gateway's part: welcome every hello, answer every utterance with the HTTPS clip.
    gatewaySide = await connectMqtt(broker.plainUrl, { clientId: 'test-gateway' });
    await gatewaySide.subscribeAsync(deviceTopic(device, 'req'), { qos: 1 });
    gatewaySide.on('message', (_topic, payload) => {
      const m = decodeMessage(payload);
      const res = deviceTopic(device, 'res');
      if (m.type === 'hello') {
        gatewaySide.publish(res, encodeMessage({ type: 'welcome', id: m.id, time: 1_764_000_000, warmSeq: 0, maxRequestBytes: 65536 }), { qos: 1 });
      } else if (m.type === 'utterance') {
        const clip = { clipId, sha256: createHash('sha256').update(clipBytes).digest(), size: clipBytes.length, url: originUrl, expires: 1_900_000_000 };
        gatewaySide.publish(res, encodeMessage({ type: 'answer', id: m.id, reply: 'a story over TLS', clip, source: 0 }), { qos: 1 });
      }
    });
  }, 300_000);

  afterAll(async () => {
    for (const b of bears) await b.quit();
    await gatewaySide?.endAsync();
    await new Promise((r) => (origin ? origin.close(r) : r(undefined)));
    await broker?.stop();
    removeCertificates(certs);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const startBear = (name: string, args: string[]) => {
    const bear = new Bear(['--device', device, '--secret', 'unused-by-this-broker', '--flash', join(work, `${name}.flash`), '--budget', '256KB', ...args]);
    bears.push(bear);
    return bear;
  };
  const stop = async (bear: Bear) => {
    expect(await bear.quit()).toBe(0);
    bears.splice(bears.indexOf(bear), 1);
  };
  /** Two refused connects in a row, and never ready. */
  const refused = async (bear: Bear) => {
    await bear.next((e) => e.event === 'error' && e.what === 'connect', 'a refused connect');
    await bear.next((e) => e.event === 'error' && e.what === 'connect', 'a second refused connect');
    expect(bear.events.some((e) => e.event === 'ready')).toBe(false);
  };

  it('connects with --ca, gets its answer, and downloads the clip over HTTPS on one kept-alive connection', async () => {
    const bear = startBear('ok', ['--gateway', broker.tlsUrl, '--ca', certs.ca]);
    expect(await bear.next((e) => e.event === 'ready', 'ready over mqtts')).toMatchObject({ gateway: broker.tlsUrl });
    bear.send('say tell me a story');
    expect(await bear.next((e) => e.event === 'answer', 'answer')).toMatchObject({ reply: 'a story over TLS' });
    const play = await bear.next((e) => e.event === 'play', 'play of the HTTPS clip');
    expect(play).toMatchObject({ clip: clipId.toString('hex'), bytes: clipBytes.length });
    // SHA-256 verified by the store's commit; two Range chunks, one TLS handshake.
    expect(rangeRequests).toEqual(['bytes=0-4095', 'bytes=4096-5999']);
    expect(tlsConnections).toHaveLength(1);
    await stop(bear);
  }, 60_000);

  it('refuses a gateway whose certificate its CA did not sign', async () => {
    const bear = startBear('wrong-ca', ['--gateway', broker.tlsUrl, '--ca', certs.otherCa]);
    await refused(bear);
    await stop(bear);
  }, 60_000);

  it('mutual TLS: admitted with --cert/--key, refused without', async () => {
    const without = startBear('no-cert', ['--gateway', broker.mutualUrl, '--ca', certs.ca]);
    await refused(without);
    await stop(without);
    const bear = startBear('mtls', ['--gateway', broker.mutualUrl, '--ca', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey]);
    expect(await bear.next((e) => e.event === 'ready', 'ready over mutual TLS')).toMatchObject({ gateway: broker.mutualUrl });
    await stop(bear);
  }, 60_000);

  it('insists on --ca for an mqtts:// gateway and on --cert with --key', async () => {
    const usage = (args: string[]) => {
      const bear = startBear(`usage-${bears.length}`, args);
      return new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const wait = async () => {
          const code = await bear.quit();
          bears.splice(bears.indexOf(bear), 1);
          resolve({ code, stderr: bear.stderr.join('\n') });
        };
        void sleep(300).then(wait);
      });
    };
    expect(await usage(['--gateway', broker.tlsUrl])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--ca/) });
    expect(await usage(['--gateway', broker.tlsUrl, '--ca', certs.ca, '--cert', certs.clientCert])).toMatchObject({
      code: 2, stderr: expect.stringMatching(/--cert and --key/),
    });
  }, 30_000);
});

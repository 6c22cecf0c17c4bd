/**
 * TLS on the gateway over real sockets: the data dir's fleet CA and server
 * certificate (made once, kept), bears over MQTTS and WSS with clips over
 * HTTPS, the refusals (no CA, wrong host, expired certificate, plaintext on
 * the TLS port, TLS 1.1) while others keep being served, mutual TLS with
 * certificates issued by `device add --cert`, and plaintext kept on
 * loopback.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { startGateway, type Gateway } from '../../gateway/index.js';
import { decodeMessage, deviceTopic, encodeMessage, type Message } from '../../protocol/index.js';
import { makeTestCa, makeTestCertificate } from '../helpers/test-pki.js';
import { startTestGateway, textUtterance, type TestGateway } from './harness.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', ...args], { cwd: process.cwd() });

let t: TestGateway;
let ca: Buffer;
let work: string;
let asked = 0;

beforeAll(async () => {
  t = await startTestGateway();
  ca = readFileSync(t.gateway.caFile);
  work = mkdtempSync(join(tmpdir(), 'teddy-tls-'));
});
afterAll(async () => {
  await t?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** mqtt.js over MQTTS/WSS; resolves once connected, rejects with the TLS or CONNACK error, or when the server closes first. */
function connectTls(url: string, id: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: id, username: id, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    // mqtt.js may emit more than one error for one failed handshake.
    client.on('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

/** One utterance over an MQTT client; resolves with the answer. */
async function ask(client: MqttClient, id: string, text = 'tell me a story'): Promise<Message> {
  const requestId = ++asked;
  await client.subscribeAsync(deviceTopic(id, 'res'), { qos: 1 });
  const answered = new Promise<Message>((resolve) => {
    client.on('message', (_topic, payload) => {
      const m = decodeMessage(payload);
      if ('id' in m && m.id === requestId) resolve(m);
    });
  });
  await client.publishAsync(deviceTopic(id, 'req'), encodeMessage(textUtterance(requestId, text)), { qos: 1 });
  return answered;
}

/** A fleet bear over MQTTS with the CA gets an answer: the gateway is still serving. */
async function tlsBearAnswered(): Promise<void> {
  const id = 'steady-tls-bear';
  const client = await connectTls(t.gateway.mqttsUrl, id, { ca, password: deriveDeviceSecret(t.fleetKey, id) });
  try {
    expect(await ask(client, id)).toMatchObject({ type: 'answer' });
  } finally {
    await client.endAsync();
  }
}

function httpsFetch(url: string, options: { ca?: Buffer } = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca: options.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('the data dir\'s certificates', () => {
  it('are a fleet CA and a server certificate for localhost and 127.0.0.1, keys 0600, made once and kept', async () => {
    const dir = join(t.dataDir, 'tls');
    const server = new X509Certificate(readFileSync(join(dir, 'server.pem')));
    expect(t.gateway.caFile).toBe(join(dir, 'ca.pem'));
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.verify(new X509Certificate(ca).publicKey)).toBe(true);
    for (const key of ['ca-key.pem', 'server-key.pem']) expect(statSync(join(dir, key)).mode & 0o077).toBe(0);
    // A second gateway on the same data dir keeps both.
    const again = await startGateway({ mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0, dataDir: t.dataDir, redisUrl: t.redis!.url, logLevel: 'silent' });
    try {
      expect(readFileSync(again.caFile).equals(ca)).toBe(true);
      expect(new X509Certificate(readFileSync(join(dir, 'server.pem'))).serialNumber).toBe(server.serialNumber);
    } finally {
      await again.close();
    }
  });
});

describe('bears over TLS', () => {
  it('are answered over MQTTS and WSS, and get clip URLs over HTTPS that the CA verifies', async () => {
    const id = 'tls-bear';
    const secret = deriveDeviceSecret(t.fleetKey, id);
    const client = await connectTls(t.gateway.mqttsUrl, id, { ca, password: secret });
    const answer = await ask(client, id);
    await client.endAsync();
    expect(answer.type).toBe('answer');
    const url = answer.type === 'answer' ? answer.clip.url : '';
    expect(url.startsWith(`${t.gateway.httpsUrl}/clips/`)).toBe(true);
    const clip = await httpsFetch(url, { ca });
    expect(clip.status).toBe(200);
    expect(clip.body.length).toBe(answer.type === 'answer' ? answer.clip.size : -1);

    const ws = await connectTls(t.gateway.mqttWssUrl, id, { ca, password: secret });
    expect(await ask(ws, id)).toMatchObject({ type: 'answer' });
    await ws.endAsync();
    // A plaintext bear on loopback still gets plaintext URLs.
    const plain = await t.connectFleetBear('plain-bear');
    const plainAnswer = await plain.request(textUtterance(1, 'tell me a story'));
    expect(plainAnswer.type === 'answer' && plainAnswer.clip.url.startsWith(`${t.gateway.httpUrl}/clips/`)).toBe(true);
  });

  it('refuse a client without the CA, a wrong host name, plaintext on the TLS ports and TLS 1.1, and keep serving others', async () => {
    const id = 'refused-bear';
    const password = deriveDeviceSecret(t.fleetKey, id);
    await expect(connectTls(t.gateway.mqttsUrl, id, { password })).rejects.toThrow(/self-signed|unable to (get|verify)/i);
    await expect(httpsFetch(`${t.gateway.httpsUrl}/healthz`)).rejects.toThrow(/self-signed|unable to (get|verify)/i);
    await expect(connectTls(t.gateway.mqttsUrl, id, { ca, password, servername: 'evil.example' })).rejects.toThrow(/altnames|does not match/i);
    await tlsBearAnswered();

    // Plaintext MQTT on the MQTTS port: the handshake fails, the connection closes.
    const { port: mqttsPort } = new URL(t.gateway.mqttsUrl);
    await expect(connectTls(`mqtt://127.0.0.1:${mqttsPort}`, id, { password, connectTimeout: 3000 })).rejects.toThrow();
    const { port: httpsPort } = new URL(t.gateway.httpsUrl);
    await expect(fetch(`http://127.0.0.1:${httpsPort}/healthz`)).rejects.toThrow();

    // TLS 1.1, offered with every cipher allowed: the server refuses the protocol version.
    const tls11 = await new Promise<Error | undefined>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: Number(mqttsPort), ca, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', resolve);
    });
    // The server's alert (70), not a client that could not offer TLS 1.1.
    expect(tls11?.message).toMatch(/alert protocol version/i);
    // An independent client: openssl s_client with TLS 1.1 only.
    await expect(run('openssl', ['s_client', '-connect', `127.0.0.1:${mqttsPort}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], { timeout: 10_000 })).rejects.toMatchObject({
      stderr: expect.stringMatching(/alert protocol version/),
    });
    expect(t.logs.filter((l) => l.includes('"reason":"ERR_SSL_UNSUPPORTED_PROTOCOL"')).length).toBe(2);
    await tlsBearAnswered();
    expect(t.logs.filter((l) => l.includes('tls handshake refused')).length).toBeGreaterThanOrEqual(3);
    expect(t.logs.join('')).not.toContain(password);
  });

  it('refuse an expired or wrong-host server certificate, and serve clients that ask for the host it names', async () => {
    const testCa = await makeTestCa(work, 'operator');
    const caPem = readFileSync(testCa.certFile);
    const expired = await makeTestCertificate(work, testCa, { cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'serverAuth', days: -1 });
    const otherHost = await makeTestCertificate(work, testCa, { cn: 'bears.example', san: ['DNS:bears.example'], usage: 'serverAuth', days: 30 });
    for (const [cert, expected] of [[expired, /expired/i], [otherHost, /altnames|does not match/i]] as const) {
      const dataDir = mkdtempSync(join(work, 'gw-'));
      const logs: string[] = [];
      const g: Gateway = await startGateway({
        mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0, dataDir, redisUrl: t.redis!.url, fleetKey: t.fleetKey, providerLatencyMs: 0,
        tlsCert: cert.certFile, tlsKey: cert.keyFile, tlsCa: testCa.certFile,
        logger: (await import('pino')).pino({ level: 'info' }, { write: (l: string) => void logs.push(l) }),
      });
      try {
        expect(g.caFile).toBe(testCa.certFile);
        await expect(connectTls(g.mqttsUrl, 'b', { ca: caPem, password: deriveDeviceSecret(t.fleetKey, 'b') })).rejects.toThrow(expected);
        if (cert === otherHost) {
          const ok = await connectTls(g.mqttsUrl, 'b', { ca: caPem, servername: 'bears.example', password: deriveDeviceSecret(t.fleetKey, 'b') });
          // Its own phrase: this gateway shares the suite's Redis, and closes right after.
          expect(await ask(ok, 'b', 'what does the owl say')).toMatchObject({ type: 'answer' });
          await ok.endAsync();
          expect(logs.join('')).toMatch(/does not name every configured host/);
        } else {
          expect(logs.join('')).toMatch(/not valid now/);
        }
      } finally {
        await g.close();
      }
    }
    await expect(startGateway({ mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0, dataDir: mkdtempSync(join(work, 'gw-')), tlsCert: expired.certFile, tlsKey: otherHost.keyFile, logLevel: 'silent' }))
      .rejects.toThrow(/--tls-cert.*not the key/);
    await expect(startGateway({ mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0, dataDir: mkdtempSync(join(work, 'gw-')), tlsCert: expired.certFile, logLevel: 'silent' }))
      .rejects.toThrow(/--tls-key/);
    await tlsBearAnswered();
  });
});

describe('mutual TLS', () => {
  it('a bear with a certificate from `device add --cert` needs no password, and its certificate is no other bear', async () => {
    const { stdout } = await cli('device', 'add', 'cert-bear-a', '--cert', '--json', '--data-dir', t.dataDir, '--redis-url', t.redis!.url);
    const issued = JSON.parse(stdout) as { id: string; certFile: string; keyFile: string; caFile: string };
    expect(issued).toMatchObject({ id: 'cert-bear-a', caFile: t.gateway.caFile });
    expect(issued.certFile.startsWith(t.dataDir)).toBe(true);
    expect(statSync(issued.keyFile).mode & 0o077).toBe(0);
    const creds = { ca, cert: readFileSync(issued.certFile), key: readFileSync(issued.keyFile) };
    expect(new X509Certificate(creds.cert).subject).toBe('CN=cert-bear-a');

    const a = await connectTls(t.gateway.mqttsUrl, 'cert-bear-a', { ...creds, username: undefined });
    expect(await ask(a, 'cert-bear-a')).toMatchObject({ type: 'answer' });
    await a.endAsync();
    const overWss = await connectTls(t.gateway.mqttWssUrl, 'cert-bear-a', creds);
    await overWss.endAsync();

    // Bear A's certificate as bear B: refused, even with B's valid secret.
    const b = 'cert-bear-b';
    await expect(connectTls(t.gateway.mqttsUrl, b, { ...creds })).rejects.toThrow(/not authori[sz]ed/i);
    await expect(connectTls(t.gateway.mqttsUrl, b, { ...creds, password: deriveDeviceSecret(t.fleetKey, b) })).rejects.toThrow(/not authori[sz]ed/i);
    await expect(connectTls(t.gateway.mqttsUrl, 'cert-bear-a', { ...creds, username: b })).rejects.toThrow(/not authori[sz]ed/i);

    // The same device id from another CA: the TLS layer refuses it.
    const foreign = await makeTestCa(work, 'foreign');
    const forged = await makeTestCertificate(work, foreign, { cn: 'cert-bear-a', san: ['DNS:cert-bear-a'], usage: 'clientAuth', days: 30 });
    await expect(connectTls(t.gateway.mqttsUrl, 'cert-bear-a', { ca, cert: readFileSync(forged.certFile), key: readFileSync(forged.keyFile) })).rejects.toThrow();
    expect(t.logs.join('')).toContain('client certificate refused');

    // Re-issuing voids the old certificate; removing the bear voids the new one.
    const reissued = JSON.parse((await cli('device', 'add', 'cert-bear-a', '--cert', '--json', '--out', join(work, 'certs'), '--data-dir', t.dataDir, '--redis-url', t.redis!.url)).stdout) as typeof issued;
    await expect(connectTls(t.gateway.mqttsUrl, 'cert-bear-a', creds)).rejects.toThrow(/not authori[sz]ed/i);
    const fresh = { ca, cert: readFileSync(reissued.certFile), key: readFileSync(reissued.keyFile) };
    await (await connectTls(t.gateway.mqttsUrl, 'cert-bear-a', fresh)).endAsync();
    await cli('device', 'remove', 'cert-bear-a', '--data-dir', t.dataDir, '--redis-url', t.redis!.url);
    await expect(connectTls(t.gateway.mqttsUrl, 'cert-bear-a', fresh)).rejects.toThrow(/not authori[sz]ed/i);
    await tlsBearAnswered();
  }, 60_000);

  it('refuses a bad device id for --cert and --cert with --secret', async () => {
    await expect(cli('device', 'add', '../evil', '--cert', '--data-dir', t.dataDir, '--redis-url', t.redis!.url)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/device id/) });
    await expect(cli('device', 'add', 'x', '--cert', '--secret', 'abcdefghij', '--data-dir', t.dataDir, '--redis-url', t.redis!.url)).rejects.toMatchObject({ code: 1 });
  });
});

const lanAddress = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('plaintext listeners', () => {
  it.skipIf(!lanAddress)('stay on loopback when --host is not, unless --allow-plaintext', async () => {
    const host = lanAddress!;
    for (const allowPlaintext of [false, true]) {
      const g = await startGateway({
        host, allowPlaintext, mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0, dataDir: mkdtempSync(join(work, 'gw-')),
        redisUrl: t.redis!.url, fleetKey: t.fleetKey, providerLatencyMs: 0, logLevel: 'silent',
      });
      try {
        expect(new URL(g.mqttUrl).hostname).toBe(allowPlaintext ? host : '127.0.0.1');
        expect(new URL(g.mqttsUrl).hostname).toBe(host);
        const { port } = new URL(g.mqttUrl);
        const plain = connectTls(`mqtt://${host}:${port}`, 'lan-bear', { password: deriveDeviceSecret(t.fleetKey, 'lan-bear') });
        if (allowPlaintext) await (await plain).endAsync();
        else await expect(plain).rejects.toThrow(/ECONNREFUSED/);
        const caPem = readFileSync(g.caFile);
        const secure = await connectTls(g.mqttsUrl, 'lan-bear', { ca: caPem, password: deriveDeviceSecret(t.fleetKey, 'lan-bear') });
        await secure.endAsync();
      } finally {
        await g.close();
      }
    }
  });
});

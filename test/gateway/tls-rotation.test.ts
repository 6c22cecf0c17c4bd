/**
 * Certificate rotation without a restart: the operator replaces the files
 * `--tls-cert` and `--tls-key` name and sends the gateway SIGHUP (in
 * process: `reloadTls()`). New MQTTS and HTTPS connections get the new
 * certificate, open ones keep theirs, and files that do not load leave the
 * previous certificate in service. Real openssl-made certificates, real TLS
 * handshakes, and for SIGHUP a real `start` process.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/index.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { makeTestCa, makeTestCertificate, type TestCertificate } from '../helpers/test-pki.js';

let work: string;
let redis: RedisHandle;
let caPem: Buffer;
let caFile: string;
let first: TestCertificate;
let second: TestCertificate;
/** The files the gateway is started with; rotation copies another certificate over them. */
let live: TestCertificate;

const fingerprint = (cert: TestCertificate) => new X509Certificate(readFileSync(cert.certFile)).fingerprint256;
const install = (cert: TestCertificate) => {
  copyFileSync(cert.certFile, live.certFile);
  copyFileSync(cert.keyFile, live.keyFile);
};

/** A TLS connection to `url`'s port (MQTTS or HTTPS) that trusts only the test CA; resolves once the handshake is done. */
function handshake(url: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(new URL(url).port), ca: caPem, servername: 'localhost' });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function servedFingerprint(url: string): Promise<string> {
  const socket = await handshake(url);
  const served = socket.getPeerX509Certificate()!.fingerprint256;
  socket.destroy();
  return served;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'teddy-tls-rotation-'));
  redis = await startRedis();
  const ca = await makeTestCa(work, 'rotation');
  caFile = ca.certFile;
  caPem = readFileSync(caFile);
  const server = { cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'serverAuth' as const };
  first = await makeTestCertificate(work, ca, { ...server, days: 30 });
  second = await makeTestCertificate(work, ca, { ...server, days: 31 });
  live = { certFile: join(work, 'server.pem'), keyFile: join(work, 'server-key.pem') };
}, 30_000);
afterAll(async () => {
  await redis?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('TLS certificate rotation', () => {
  it('serves the new certificate to new MQTTS and HTTPS connections after reloadTls, keeps open ones, and keeps the old one if the new files are bad', async () => {
    install(first);
    const g = await startGateway({
      mqttPort: 0, httpPort: 0, mqttsPort: 0, httpsPort: 0, dataDir: mkdtempSync(join(work, 'gw-')), redisUrl: redis.url,
      tlsCert: live.certFile, tlsKey: live.keyFile, tlsCa: caFile, providerLatencyMs: 0, logLevel: 'silent',
    });
    try {
      expect(await servedFingerprint(g.mqttsUrl)).toBe(fingerprint(first));
      expect(await servedFingerprint(g.httpsUrl)).toBe(fingerprint(first));
      const open = await handshake(g.mqttsUrl);

      install(second);
      await g.reloadTls();
      expect(await servedFingerprint(g.mqttsUrl)).toBe(fingerprint(second));
      expect(await servedFingerprint(g.httpsUrl)).toBe(fingerprint(second));
      expect(open.destroyed).toBe(false);
      expect(open.getPeerX509Certificate()!.fingerprint256).toBe(fingerprint(first));
      open.destroy();

      // A key that is not the certificate's: refused, and the second certificate stays in service.
      copyFileSync(first.keyFile, live.keyFile);
      await expect(g.reloadTls()).rejects.toThrow(/--tls-cert.*not the key/);
      expect(await servedFingerprint(g.mqttsUrl)).toBe(fingerprint(second));
    } finally {
      await g.close();
    }
  });

  // With workers the primary passes SIGHUP on: connections go to the workers in turn, and each must serve the new one.
  it.each([
    ['start', []],
    ['start --workers 2', ['--workers', '2']],
  ])('reloads on SIGHUP in a running `%s`', async (_name: string, extra: string[]) => {
    install(first);
    const { child, ready } = startGatewayProcess([
      ...extra, '--data-dir', mkdtempSync(join(work, 'gw-')), '--redis-url', redis.url, '--tls-cert', live.certFile, '--tls-key', live.keyFile, '--tls-ca', caFile,
      '--provider-latency-ms', '0', '--log-level', 'warn',
    ]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const { mqttsUrl } = await ready;
      expect(await servedFingerprint(mqttsUrl)).toBe(fingerprint(first));

      install(second);
      child.kill('SIGHUP');
      const deadline = Date.now() + 10_000;
      while ((await servedFingerprint(mqttsUrl)) !== fingerprint(second)) {
        if (Date.now() > deadline) throw new Error('still the first certificate 10 s after SIGHUP');
        await new Promise((r) => setTimeout(r, 100));
      }
      // Every process has it once one has: a wait per worker, then consecutive connections.
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 6; i++) expect(await servedFingerprint(mqttsUrl)).toBe(fingerprint(second));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

/**
 * Real TLS for the bear's host build, without the gateway: certificates made
 * with Debian's openssl in a temp dir (a CA, a server certificate for
 * 127.0.0.1 and localhost, a client certificate for mutual TLS, and an
 * unrelated CA for the refusal cases), and a real mosquitto broker with TLS
 * listeners (server-only and mutual) next to a loopback plaintext one for the
 * test's side. Stopped by its PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../infra/free-port.js';

export interface Certificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting it must refuse the server. */
  otherCa: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** CA → server (SAN 127.0.0.1, localhost) and client (CN = the device id) certificates, EC P-256, 1 day. */
export function makeCertificates(deviceId: string): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'teddy-tls-'));
  const ca = (name: string) => {
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`]);
  };
  const leaf = (name: string, subject: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subject,
      '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
      '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  };
  ca('ca');
  ca('other-ca');
  leaf('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', `/CN=${deviceId}`, 'extendedKeyUsage=clientAuth\n');
  return {
    dir, ca: join(dir, 'ca.pem'), serverCert: join(dir, 'server.pem'), serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key'), otherCa: join(dir, 'other-ca.pem'),
  };
}

export interface TlsBroker {
  /** mqtts:// with a server certificate only. */
  tlsUrl: string;
  /** mqtts:// that also requires a client certificate from the CA. */
  mutualUrl: string;
  /** mqtt:// on loopback, for the test's own client. */
  plainUrl: string;
  stop(): Promise<void>;
}

async function listening(port: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => s.end(() => resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`mosquitto is not listening on ${port}`);
    await sleep(50);
  }
}

export async function startTlsBroker(certs: Certificates): Promise<TlsBroker> {
  const [tls, mutual, plain] = [await freePort(), await freePort(), await freePort()];
  const tlsListener = (port: number, requireCert: boolean) => [
    `listener ${port} 127.0.0.1`, `cafile ${certs.ca}`, `certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`,
    'tls_version tlsv1.2', `require_certificate ${requireCert}`,
  ];
  const conf = join(certs.dir, 'mosquitto.conf');
  writeFileSync(conf, [
    // Started as root, mosquitto would drop to its own user, which cannot read the temp dir.
    `user ${userInfo().username}`,
    'per_listener_settings false', 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error',
    `listener ${plain} 127.0.0.1`, ...tlsListener(tls, false), ...tlsListener(mutual, true), '',
  ].join('\n'));
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  try {
    await Promise.all([listening(plain), listening(tls), listening(mutual)]);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${stderr.join('')}`);
  }
  return {
    tlsUrl: `mqtts://127.0.0.1:${tls}`,
    mutualUrl: `mqtts://127.0.0.1:${mutual}`,
    plainUrl: `mqtt://127.0.0.1:${plain}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export function removeCertificates(certs: Certificates | undefined): void {
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
}

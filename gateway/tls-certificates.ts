/**
 * The fleet's certificates, made with Debian's `openssl` (no X.509 code of
 * our own) and kept in the data directory's `tls/`:
 *   ca.pem, ca-key.pem          the fleet CA (EC P-256, 10 years), created once
 *   server.pem, server-key.pem  the gateway's server certificate from that CA,
 *                               for localhost, 127.0.0.1, ::1 and the configured
 *                               host names; re-issued only when it is missing,
 *                               has less than 30 days left or lacks a name
 *   device-certs/ID.pem, ID-key.pem   client certificates issued to bears (CN
 *                               and DNS SAN = the device id, clientAuth only)
 * Keys are written 0600 in a 0700 directory. Generation runs under a lock
 * directory, so gateways starting together on one data dir make one CA.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, rmdir, stat, chmod } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../infra/atomic-file.js';
import { isValidDeviceId } from '../protocol/index.js';

const run = promisify(execFile);

export const TLS_DIR = 'tls';
export const DEVICE_CERT_DIR = 'device-certs';

export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

const DAY_MS = 24 * 3600 * 1000;
const CA_DAYS = 3650;
/** Browsers' and Apple's ceiling for server certificates. */
const SERVER_DAYS = 397;
const RENEW_WITHIN_MS = 30 * DAY_MS;
/** Bears live for years; a stolen bear's certificate is voided by `device remove` (the registry pins it). */
const DEVICE_DAYS = 3650;
const LOCK_STALE_MS = 30_000;

/** The fleet CA's files in the data dir, creating the CA if there is none. */
export async function ensureFleetCa(dataDir: string): Promise<CertificateFiles> {
  const dir = join(dataDir, TLS_DIR);
  const files = { certFile: join(dir, 'ca.pem'), keyFile: join(dir, 'ca-key.pem') };
  if (await exists(files.certFile)) return files;
  await withLock(dir, async () => {
    if (await exists(files.certFile)) return;
    await openssl(dir, files, [
      '-x509', '-days', String(CA_DAYS), '-subj', '/CN=teddycache fleet CA',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  });
  return files;
}

/**
 * The gateway's server certificate for `names` (host names and IP
 * addresses), issued by the fleet CA when missing, expiring within 30 days,
 * or not covering every name; else the kept one.
 */
export async function ensureServerCertificate(dataDir: string, names: readonly string[], now = Date.now()): Promise<CertificateFiles & { caFile: string }> {
  const ca = await ensureFleetCa(dataDir);
  const dir = join(dataDir, TLS_DIR);
  const files = { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server-key.pem') };
  const usable = async (): Promise<boolean> => {
    const cert = await readCertificate(files.certFile);
    return cert !== undefined && Date.parse(cert.validTo) - now > RENEW_WITHIN_MS && names.every((n) => covers(cert, n));
  };
  if (!(await usable())) {
    await withLock(dir, async () => {
      if (await usable()) return;
      const san = [...new Set(names)].map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
      await openssl(dir, files, [
        '-x509', '-CA', ca.certFile, '-CAkey', ca.keyFile, '-days', String(SERVER_DAYS), '-subj', `/CN=${names[0] ?? 'localhost'}`,
        '-addext', `subjectAltName=${san}`, '-addext', 'extendedKeyUsage=serverAuth',
        '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature',
      ]);
    });
  }
  return { ...files, caFile: ca.certFile };
}

/**
 * Issues a client certificate for one bear from the fleet CA (CN and SAN =
 * the device id), written to `outDir` as ID.pem and ID-key.pem; returns the
 * files and the certificate's SHA-256 fingerprint (hex), which the registry
 * pins.
 */
export async function issueDeviceCertificate(dataDir: string, deviceId: string, outDir: string): Promise<CertificateFiles & { caFile: string; sha256: string }> {
  // The id goes into an openssl -subj and a file name: only the protocol's charset.
  if (!isValidDeviceId(deviceId)) throw new RangeError('device id must be 1-64 characters of [A-Za-z0-9_-]');
  const ca = await ensureFleetCa(dataDir);
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const files = { certFile: join(outDir, `${deviceId}.pem`), keyFile: join(outDir, `${deviceId}-key.pem`) };
  await openssl(outDir, files, [
    '-x509', '-CA', ca.certFile, '-CAkey', ca.keyFile, '-days', String(DEVICE_DAYS), '-subj', `/CN=${deviceId}`,
    '-addext', `subjectAltName=DNS:${deviceId}`, '-addext', 'extendedKeyUsage=clientAuth',
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature',
  ]);
  const cert = (await readCertificate(files.certFile))!;
  return { ...files, caFile: ca.certFile, sha256: fingerprint(cert) };
}

/** A certificate's SHA-256 fingerprint as lower-case hex without colons. */
export function fingerprint(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(':', '').toLowerCase();
}

/** Whether the certificate names this host or IP address. */
export function covers(cert: X509Certificate, name: string): boolean {
  return isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
}

/** The certificate in a PEM file, or undefined if there is none. */
export async function readCertificate(path: string): Promise<X509Certificate | undefined> {
  try {
    return new X509Certificate(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** One `openssl req` run making a new EC P-256 key and certificate; both land in `files` atomically, the key 0600. */
async function openssl(dir: string, files: CertificateFiles, args: string[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(dir, '.openssl-'));
  try {
    const config = join(work, 'openssl.cnf');
    // A config of our own: the system one would add its default (CA) extensions.
    await writeFileAtomic(config, '[req]\ndistinguished_name = dn\n[dn]\n');
    const key = join(work, 'key.pem');
    const cert = join(work, 'cert.pem');
    try {
      await run('openssl', ['req', '-config', config, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, ...args]);
    } catch (err) {
      const { stderr, code } = err as { stderr?: string; code?: string | number };
      if (code === 'ENOENT') throw new Error('openssl not found: install Debian\'s openssl (scripts/bootstrap.sh) or pass --tls-cert/--tls-key');
      throw new Error(`openssl failed: ${(stderr ?? String(err)).trim().split('\n').slice(-2).join(' ')}`);
    }
    await chmod(key, 0o600);
    await writeFileAtomic(files.keyFile, await readFile(key));
    await writeFileAtomic(files.certFile, await readFile(cert), 0o644);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Checks that a key file holds the private key of a certificate file (a clear error instead of a TLS failure later). */
export async function checkKeyPair(certFile: string, keyFile: string): Promise<X509Certificate> {
  const cert = new X509Certificate(await readFile(certFile));
  if (!cert.checkPrivateKey(createPrivateKey(await readFile(keyFile)))) throw new Error(`${keyFile} is not the key of ${certFile}`);
  return cert;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Runs `fn` holding `{dir}/.lock` (a directory: mkdir is atomic); a lock older than 30 s is taken as abandoned. */
async function withLock(dir: string, fn: () => Promise<void>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, '.lock');
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const since = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > LOCK_STALE_MS) await rmdir(lock).catch(() => undefined);
      else await sleep(50);
    }
  }
  try {
    await fn();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

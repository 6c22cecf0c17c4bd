/**
 * The TLS settings of the gateway's MQTTS and HTTPS/WSS listeners: the
 * operator's certificate (`--tls-cert`, `--tls-key`, `--tls-ca`), or else
 * the data dir's fleet CA and a server certificate from it
 * (./tls-certificates.ts). TLS 1.2 or later only. Client certificates are
 * requested but optional: a bear may log in with a certificate from the
 * fleet CA (or `--tls-ca`) instead of a password; a certificate that does
 * not verify closes the connection (./client-certificate.ts decides who it
 * names).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { OptionError } from './errors.js';
import type { GatewayOptions } from './options.js';
import { checkKeyPair, covers, ensureFleetCa, ensureServerCertificate } from './tls-certificates.js';

export interface ServerTls {
  /** For tls.createServer and https.createServer. */
  readonly options: TlsOptions;
  /** The CA a client should trust for this gateway's certificate (ready JSON `caFile`). */
  readonly caFile: string;
  /** Host names and addresses the server certificate must name. */
  readonly names: readonly string[];
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** localhost, the loopback addresses, `--host` (unless a wildcard) and the public URL's host. */
export function serverNames(o: Pick<GatewayOptions, 'host' | 'publicUrl'>): string[] {
  const names = ['localhost', '127.0.0.1', '::1'];
  if (!WILDCARD.has(o.host)) names.push(o.host);
  if (o.publicUrl) names.push(new URL(o.publicUrl).hostname.replace(/^\[|\]$/g, ''));
  return [...new Set(names)];
}

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export async function loadServerTls(
  o: Pick<GatewayOptions, 'tlsCert' | 'tlsKey' | 'tlsCa' | 'host' | 'publicUrl' | 'connectTimeoutMs'>,
  dataDir: string,
  log: Logger,
): Promise<ServerTls> {
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new OptionError(o.tlsCert ? '--tls-key' : '--tls-cert', 'give both --tls-cert and --tls-key');
  const names = serverNames(o);
  const fleetCa = await ensureFleetCa(dataDir);
  let files: { certFile: string; keyFile: string; caFile: string };
  if (o.tlsCert && o.tlsKey) {
    const cert = await checkKeyPair(o.tlsCert, o.tlsKey).catch((err: Error) => {
      throw new OptionError('--tls-cert', err.message);
    });
    const now = Date.now();
    if (Date.parse(cert.validTo) <= now || Date.parse(cert.validFrom) > now) {
      log.error({ certFile: o.tlsCert, validFrom: cert.validFrom, validTo: cert.validTo }, 'TLS certificate is not valid now: clients will refuse it');
    }
    const missing = names.filter((n) => !covers(cert, n));
    if (missing.length > 0) log.warn({ certFile: o.tlsCert, missing }, 'TLS certificate does not name every configured host');
    files = { certFile: o.tlsCert, keyFile: o.tlsKey, caFile: o.tlsCa ?? fleetCa.certFile };
  } else {
    files = await ensureServerCertificate(dataDir, names);
  }
  const clientCas = [o.tlsCa, fleetCa.certFile].filter((f): f is string => Boolean(f));
  const read = (path: string, option: string) =>
    readFile(path).catch((err: Error) => {
      throw new OptionError(option, err.message);
    });
  const [key, cert, ...ca] = await Promise.all([
    read(files.keyFile, '--tls-key'), read(files.certFile, '--tls-cert'), ...clientCas.map((f) => read(f, '--tls-ca')),
  ]);
  return {
    options: {
      key, cert, ca,
      minVersion: 'TLSv1.2',
      // Ask for a client certificate, accept none (password bears); one that does not verify is refused after the handshake.
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: o.connectTimeoutMs,
    },
    caFile: files.caFile,
    names,
  };
}

/**
 * Who a client certificate names. A bear may log in over TLS with a
 * certificate from the fleet CA instead of a password: its CN (and DNS SAN,
 * when present) is its device id. Only a certificate the TLS layer verified
 * against the fleet CA counts; ./auth.ts then requires the MQTT client id to
 * be that device and the registry to have pinned this very certificate, so
 * bear A's certificate can never act as bear B, and a removed or re-keyed
 * bear's certificate no longer works.
 */
import { TLSSocket } from 'node:tls';
import type { Client } from 'aedes';
import { isValidDeviceId } from '../protocol/index.js';
import { fingerprint } from './tls-certificates.js';

export interface ClientCertificate {
  readonly deviceId: string;
  /** SHA-256 fingerprint, lower-case hex. */
  readonly sha256: string;
}

/** The TLS socket an MQTT client came over: the connection itself (MQTTS) or the upgraded request's (WSS). */
export function tlsSocketOf(client: Pick<Client, 'conn' | 'req'>): TLSSocket | undefined {
  if (client.conn instanceof TLSSocket) return client.conn;
  const socket = client.req?.socket;
  return socket instanceof TLSSocket ? socket : undefined;
}

/** The verified client certificate on a TLS socket, if it names a valid device id; else undefined. */
export function clientCertificate(socket: TLSSocket): ClientCertificate | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerX509Certificate();
  if (!cert) return undefined;
  const cn = cert.subject.split('\n').find((line) => line.startsWith('CN='))?.slice(3);
  if (!cn || !isValidDeviceId(cn)) return undefined;
  const dnsNames = (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:'));
  if (dnsNames.length > 0 && !dnsNames.every((n) => n === `DNS:${cn}`)) return undefined;
  return { deviceId: cn, sha256: fingerprint(cert) };
}

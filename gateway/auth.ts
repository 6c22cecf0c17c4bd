/**
 * MQTT CONNECT authentication (Aedes `authenticate`). A bear connects with
 * client id = username = its device id and its secret as password. The secret
 * is accepted if it is the fleet-derived one (./device-secret.ts) or matches
 * the registry's scrypt hash. Over TLS, a verified client certificate
 * (./client-certificate.ts) stands instead of the password: the client id
 * must be the certificate's device and the registry must pin that
 * certificate; no password is then needed, and none can make the connection
 * another bear. scrypt is deliberately slow, so a success is
 * remembered per (id, SHA-256 of the secret, stored hash): a reconnecting bear
 * costs one hash lookup, and re-keying or removing the bear voids the entry.
 */
import { createHash } from 'node:crypto';
import type { AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import { isValidDeviceId } from '../protocol/index.js';
import { clientCertificate, tlsSocketOf, type ClientCertificate } from './client-certificate.js';
import type { DeviceRegistry } from './device-registry.js';
import { isFleetSecret } from './device-secret.js';

type Done = (error: AuthenticateError | null, success: boolean | null) => void;
export type Authenticate = (client: Client, username: string | undefined, password: Buffer | undefined, done: Done) => void;

export interface AuthOptions {
  registry: DeviceRegistry;
  fleetKey?: string;
  log: Logger;
  onFailure(reason: string): void;
}

// MQTT 3.1.1 CONNACK return codes.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export function createAuthenticate({ registry, fleetKey, log, onFailure }: AuthOptions): Authenticate {
  // key: id \0 sha256(secret) -> the stored hash that secret was verified against.
  const verified = new Map<string, string>();

  const check = async (id: string, secret: Buffer): Promise<boolean> => {
    if (fleetKey && isFleetSecret(fleetKey, id, secret)) return true;
    const record = await registry.lookup(id);
    if (!record) return false;
    const key = `${id}\0${createHash('sha256').update(secret).digest('base64url')}`;
    if (verified.get(key) === record.hash) return true;
    if (!(await registry.verify(record, secret))) return false;
    verified.set(key, record.hash);
    return true;
  };

  const checkCertificate = async (cert: ClientCertificate): Promise<boolean> =>
    (await registry.lookup(cert.deviceId))?.certSha256 === cert.sha256;

  return (client, username, password, done) => {
    const refuse = (reason: string, returnCode: number): void => {
      onFailure(reason);
      // The device id is safe to log (validated charset); the password never is.
      log.warn({ clientId: safeId(client.id), reason }, 'mqtt connect refused');
      done(Object.assign(new Error(reason), { returnCode }) as AuthenticateError, null);
    };
    const socket = tlsSocketOf(client);
    const cert = socket && clientCertificate(socket);
    if (cert) {
      if (client.id !== cert.deviceId || (username !== undefined && username !== cert.deviceId)) return refuse('certificate-mismatch', NOT_AUTHORIZED);
      return void checkCertificate(cert).then(
        (ok) => (ok ? done(null, true) : refuse('certificate-not-enrolled', NOT_AUTHORIZED)),
        (err: unknown) => {
          log.error({ deviceId: cert.deviceId, err }, 'device registry failed during connect');
          refuse('registry-error', NOT_AUTHORIZED);
        },
      );
    }
    if (!username || !isValidDeviceId(username)) return refuse('invalid-device-id', NOT_AUTHORIZED);
    if (client.id !== username) return refuse('client-id-mismatch', NOT_AUTHORIZED);
    if (!password || password.length === 0) return refuse('no-secret', BAD_USERNAME_OR_PASSWORD);
    check(username, password).then(
      (ok) => (ok ? done(null, true) : refuse('bad-credentials', BAD_USERNAME_OR_PASSWORD)),
      (err: unknown) => {
        log.error({ deviceId: username, err }, 'device registry failed during connect');
        refuse('registry-error', NOT_AUTHORIZED);
      },
    );
  };
}

/** A client id for logs: only when it is a valid device id, else its length. */
export function safeId(id: string | undefined): string {
  return id && isValidDeviceId(id) ? id : `<invalid id, ${id?.length ?? 0} chars>`;
}

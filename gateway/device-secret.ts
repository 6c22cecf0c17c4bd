/**
 * Fleet provisioning: a factory that flashes thousands of bears cannot enrol
 * each one in the registry first, so a bear's secret may instead be derived
 * from a fleet key the gateway holds. The factory computes the same value
 * when it flashes the bear; the gateway recomputes it on connect, and no
 * per-device record is needed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** base64url(HMAC-SHA256(fleetKey, "teddy-device:" + deviceId)). */
export function deriveDeviceSecret(fleetKey: string, deviceId: string): string {
  return createHmac('sha256', fleetKey).update(`teddy-device:${deviceId}`).digest('base64url');
}

/** Constant-time check of a presented secret against the fleet derivation. */
export function isFleetSecret(fleetKey: string, deviceId: string, secret: Buffer): boolean {
  const expected = Buffer.from(deriveDeviceSecret(fleetKey, deviceId));
  return secret.length === expected.length && timingSafeEqual(secret, expected);
}

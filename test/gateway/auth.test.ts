/**
 * The authenticate hook against a real registry (on a real Redis): scrypt
 * runs once per device per process, re-keying voids the remembered success,
 * and refusals carry the MQTT return code.
 */
import type { AuthenticateError, Client } from 'aedes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticate } from '../../gateway/auth.js';
import type { DeviceRegistry } from '../../gateway/device-registry.js';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { openTestRegistry, type TestRegistry } from '../helpers/fleet.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

let redis: RedisHandle;
const opened: TestRegistry[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
  await redis?.stop();
});

async function setup() {
  const t = await openTestRegistry(redis.url);
  opened.push(t);
  const { registry } = t;
  let scryptRuns = 0;
  // The real registry, with its slow verification counted.
  const counted: DeviceRegistry = { ...registry, verify: (r, s) => (scryptRuns++, registry.verify(r, s)) };
  const failures: string[] = [];
  const authenticate = createAuthenticate({ registry: counted, fleetKey: 'fleet', log: pino({ level: 'silent' }), onFailure: (r) => failures.push(r) });
  const connect = (clientId: string, username: string | undefined, password: string | undefined) =>
    new Promise<{ ok: boolean; code?: number }>((resolve) => {
      authenticate({ id: clientId } as Client, username, password === undefined ? undefined : Buffer.from(password), (err: AuthenticateError | null, ok: boolean | null) =>
        resolve(err ? { ok: false, code: err.returnCode } : { ok: Boolean(ok) }),
      );
    });
  return { registry, connect, failures, scryptRuns: () => scryptRuns };
}

describe('authenticate', () => {
  it('runs scrypt once per device and secret, and again after re-keying', async () => {
    const { registry, connect, scryptRuns } = await setup();
    const { secret } = await registry.add('bear-1');
    expect(await connect('bear-1', 'bear-1', secret)).toEqual({ ok: true });
    expect(await connect('bear-1', 'bear-1', secret)).toEqual({ ok: true });
    expect(scryptRuns()).toBe(1);
    const rekeyed = await registry.add('bear-1');
    expect(await connect('bear-1', 'bear-1', secret)).toEqual({ ok: false, code: 4 });
    expect(await connect('bear-1', 'bear-1', rekeyed.secret)).toEqual({ ok: true });
    await registry.remove('bear-1');
    expect(await connect('bear-1', 'bear-1', rekeyed.secret)).toEqual({ ok: false, code: 4 });
  });

  it('accepts fleet secrets without the registry and refuses bad identities with their codes', async () => {
    const { connect, failures, scryptRuns } = await setup();
    expect(await connect('bear-9', 'bear-9', deriveDeviceSecret('fleet', 'bear-9'))).toEqual({ ok: true });
    expect(scryptRuns()).toBe(0);
    expect(await connect('bear-9', 'bear-9', deriveDeviceSecret('fleet', 'bear-8'))).toEqual({ ok: false, code: 4 });
    expect(await connect('other', 'bear-9', deriveDeviceSecret('fleet', 'bear-9'))).toEqual({ ok: false, code: 5 });
    expect(await connect('a/b', 'a/b', 'whatever-secret')).toEqual({ ok: false, code: 5 });
    expect(await connect('bear-9', undefined, undefined)).toEqual({ ok: false, code: 5 });
    expect(await connect('bear-9', 'bear-9', undefined)).toEqual({ ok: false, code: 4 });
    expect(failures).toEqual(['bad-credentials', 'client-id-mismatch', 'invalid-device-id', 'invalid-device-id', 'no-secret']);
  });
});

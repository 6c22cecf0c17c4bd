/**
 * The device registry in the fleet's Redis (a real redis-server): only scrypt
 * hashes stored, one registry seen by every process, records remembered for
 * Redis outages, devices.json migrated (renamed, never deleted), and the
 * data dir's embedded Redis keeping it across restarts and crashes.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDeviceFile } from '../../gateway/device-file-migration.js';
import { deriveDeviceSecret, isFleetSecret } from '../../gateway/device-secret.js';
import { findEmbeddedRedis, startEmbeddedRedis } from '../../infra/embedded-redis.js';
import { openTestRegistry, type TestRegistry } from '../helpers/fleet.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

let redis: RedisHandle;
const opened: TestRegistry[] = [];
const dirs: string[] = [];
const open = async (url = redis.url, prefix?: string): Promise<TestRegistry> => {
  const t = await openTestRegistry(url, prefix);
  opened.push(t);
  return t;
};
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'teddy-registry-'));
  dirs.push(dir);
  return dir;
};
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('device registry', () => {
  it('stores only a scrypt hash, and verifies the right secret only', async () => {
    const { registry, redis: r, keys } = await open();
    const { secret } = await registry.add('bear-1');
    const stored = (await r.client.hget(keys.devices, 'bear-1'))!;
    expect(stored).not.toContain(secret);
    expect(JSON.parse(stored)).toMatchObject({ hash: expect.stringMatching(/^scrypt\$16384\$8\$1\$/) });
    const record = (await registry.lookup('bear-1'))!;
    expect(await registry.verify(record, Buffer.from(secret))).toBe(true);
    expect(await registry.verify(record, Buffer.from(`${secret}x`))).toBe(false);
    expect(await registry.lookup('bear-2')).toBeUndefined();
  });

  it('is one registry for every process on the same Redis and prefix', async () => {
    const gateway = await open();
    const cli = await open(redis.url, gateway.keys.devices.split('{')[0]);
    expect(await gateway.registry.list()).toEqual([]);
    await cli.registry.add('bear-1', 'a-long-secret');
    expect((await gateway.registry.list()).map((d) => d.id)).toEqual(['bear-1']);
    await gateway.registry.add('bear-2', 'another-secret');
    expect(await cli.registry.remove('bear-1')).toBe(true);
    expect((await gateway.registry.list()).map((d) => d.id)).toEqual(['bear-2']);
    expect(await gateway.registry.remove('bear-1')).toBe(false);
    // Another prefix is another fleet.
    expect(await (await open()).registry.list()).toEqual([]);
  });

  it('refuses invalid ids and too short secrets', async () => {
    const { registry } = await open();
    await expect(registry.add('bear/1')).rejects.toThrow(RangeError);
    await expect(registry.add('bear+#')).rejects.toThrow(RangeError);
    await expect(registry.add('bear-1', 'short')).rejects.toThrow(RangeError);
  });

  it('keeps concurrent adds', async () => {
    const { registry } = await open();
    await Promise.all(Array.from({ length: 5 }, (_, i) => registry.add(`bear-${i}`, 'same-secret-ok')));
    expect(await registry.list()).toHaveLength(5);
  });

  it('answers lookups of bears it has seen while Redis is away, and no others', async () => {
    const own = await startRedis();
    try {
      const { registry } = await open(own.url);
      await registry.add('seen', 'a-long-secret');
      await registry.add('unseen', 'a-long-secret');
      const record = await registry.lookup('seen');
      await own.kill();
      expect(await registry.lookup('seen')).toEqual(record);
      await expect(registry.lookup('unseen')).rejects.toThrow();
      // Forgetting (another process changed the bear) drops the remembered record.
      registry.forget('seen');
      await expect(registry.lookup('seen')).rejects.toThrow();
    } finally {
      await own.stop();
    }
  });
});

describe('devices.json migration', () => {
  it('imports the file once, keeps newer registry entries, and renames the file', async () => {
    const { registry } = await open();
    const { secret } = await registry.add('in-both', 'the-newer-secret');
    const dir = tempDir();
    const file = {
      version: 1,
      devices: {
        'old-bear': { hash: 'scrypt$16384$8$1$c2FsdA$aGFzaA', createdAt: '2026-01-01T00:00:00.000Z' },
        'in-both': { hash: 'scrypt$16384$8$1$b2xk$b2xk', createdAt: '2026-01-01T00:00:00.000Z' },
      },
    };
    writeFileSync(join(dir, 'devices.json'), JSON.stringify(file));
    const migrated = await migrateDeviceFile(dir, registry);
    expect(migrated).toMatchObject({ records: 2, added: 1, renamedTo: join(dir, 'devices.json.migrated') });
    expect(existsSync(join(dir, 'devices.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'devices.json.migrated'), 'utf8'))).toEqual(file);
    expect((await registry.list()).map((d) => d.id)).toEqual(['in-both', 'old-bear']);
    expect(await registry.lookup('old-bear')).toEqual(file.devices['old-bear']);
    expect(await registry.verify((await registry.lookup('in-both'))!, Buffer.from(secret))).toBe(true);
    expect(await migrateDeviceFile(dir, registry)).toBeUndefined();
    // A second file later never overwrites the first's renamed copy.
    writeFileSync(join(dir, 'devices.json'), JSON.stringify({ version: 1, devices: {} }));
    expect((await migrateDeviceFile(dir, registry))?.renamedTo).toBe(join(dir, 'devices.json.migrated.1'));
  });

  it('refuses a file that is not a registry, leaving it in place', async () => {
    const { registry } = await open();
    const dir = tempDir();
    writeFileSync(join(dir, 'devices.json'), '{"devices": []}');
    await expect(migrateDeviceFile(dir, registry)).rejects.toThrow(/not a version 1 device registry/);
    expect(existsSync(join(dir, 'devices.json'))).toBe(true);
  });
});

describe("the data dir's embedded Redis", () => {
  it('keeps the registry across a graceful restart and a SIGKILL, and can be found while running', async () => {
    const dataDir = tempDir();
    let server = await startEmbeddedRedis(dataDir, { supervise: false });
    try {
      expect(await findEmbeddedRedis(dataDir)).toBe(server.url);
      const prefix = 'durable:';
      let t = await open(server.url, prefix);
      await t.registry.add('durable-bear', 'a-long-secret');
      await t.close();
      await server.stop();
      expect(await findEmbeddedRedis(dataDir)).toBeUndefined();

      server = await startEmbeddedRedis(dataDir, { supervise: false });
      t = await open(server.url, prefix);
      expect((await t.registry.list()).map((d) => d.id)).toEqual(['durable-bear']);
      await t.registry.add('crash-bear', 'a-long-secret');
      await t.close();
      // The append-only file is fsynced every second: a crash after that loses nothing.
      await sleep(1500);
      await server.kill();
      server = await startEmbeddedRedis(dataDir, { supervise: false });
      t = await open(server.url, prefix);
      expect((await t.registry.list()).map((d) => d.id)).toEqual(['crash-bear', 'durable-bear']);
    } finally {
      await server.stop();
    }
  });
});

describe('fleet device secrets', () => {
  it('are HMAC-SHA256(fleetKey, "teddy-device:" + id), base64url', () => {
    // Independent computation of the contract's formula.
    const expected = createHmac('sha256', 'fleet').update('teddy-device:bear-7').digest('base64url');
    expect(deriveDeviceSecret('fleet', 'bear-7')).toBe(expected);
    expect(isFleetSecret('fleet', 'bear-7', Buffer.from(expected))).toBe(true);
    expect(isFleetSecret('fleet', 'bear-8', Buffer.from(expected))).toBe(false);
    expect(isFleetSecret('other', 'bear-7', Buffer.from(expected))).toBe(false);
  });
});

import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeviceRegistry } from '../../gateway/device-registry.js';
import { deriveDeviceSecret, isFleetSecret } from '../../gateway/device-secret.js';

const dirs: string[] = [];
const tempFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'teddy-registry-'));
  dirs.push(dir);
  return join(dir, 'devices.json');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('device registry', () => {
  it('stores only a scrypt hash, and verifies the right secret only', async () => {
    const path = tempFile();
    const registry = createDeviceRegistry(path);
    const { secret } = await registry.add('bear-1');
    const file = readFileSync(path, 'utf8');
    expect(file).not.toContain(secret);
    expect(file).toMatch(/"hash": "scrypt\$16384\$8\$1\$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const record = (await registry.lookup('bear-1'))!;
    expect(await registry.verify(record, Buffer.from(secret))).toBe(true);
    expect(await registry.verify(record, Buffer.from(`${secret}x`))).toBe(false);
    expect(await registry.lookup('bear-2')).toBeUndefined();
  });

  it('sees changes another process made to the file', async () => {
    const path = tempFile();
    const gateway = createDeviceRegistry(path);
    const cli = createDeviceRegistry(path);
    expect(await gateway.list()).toEqual([]);
    await cli.add('bear-1', 'a-long-secret');
    expect((await gateway.list()).map((d) => d.id)).toEqual(['bear-1']);
    await gateway.add('bear-2', 'another-secret');
    expect(await cli.remove('bear-1')).toBe(true);
    expect((await gateway.list()).map((d) => d.id)).toEqual(['bear-2']);
    expect(await gateway.remove('bear-1')).toBe(false);
  });

  it('refuses invalid ids and too short secrets', async () => {
    const registry = createDeviceRegistry(tempFile());
    await expect(registry.add('bear/1')).rejects.toThrow(RangeError);
    await expect(registry.add('bear+#')).rejects.toThrow(RangeError);
    await expect(registry.add('bear-1', 'short')).rejects.toThrow(RangeError);
  });

  it('keeps concurrent adds (one read-modify-write at a time)', async () => {
    const registry = createDeviceRegistry(tempFile());
    await Promise.all(Array.from({ length: 5 }, (_, i) => registry.add(`bear-${i}`, 'same-secret-ok')));
    expect(await registry.list()).toHaveLength(5);
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

/** Secrets kept in a data dir: created once, and every process starting at the same time gets the same one. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSecret } from '../../infra/data-dir-secret.js';

const dir = mkdtempSync(join(tmpdir(), 'teddy-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadOrCreateSecret', () => {
  it('agrees on one secret when many start at once, and keeps it (mode 0600)', async () => {
    const secrets = await Promise.all(Array.from({ length: 20 }, () => loadOrCreateSecret(dir, 'url-key')));
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await loadOrCreateSecret(dir, 'url-key')).toBe(secrets[0]);
    expect(statSync(join(dir, 'url-key')).mode & 0o777).toBe(0o600);
  });
});

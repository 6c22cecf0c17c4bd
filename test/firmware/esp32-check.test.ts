/**
 * scripts/esp32-check.sh without an ESP-IDF tree: it says it skipped and
 * exits 0 (the build machines have none), and it refuses a directory that is
 * not ESP-IDF 5.x with exit 2. (Against a real tree it compiles the port;
 * docs/firmware.md, "ESP32 ports", has the last result.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../scripts/esp32-check.sh');
const run = (env: NodeJS.ProcessEnv) => spawnSync('bash', [script], { encoding: 'utf8', env });

describe('scripts/esp32-check.sh', () => {
  it('without IDF_PATH says it skipped and exits 0', () => {
    const { IDF_PATH: _ignored, ...env } = process.env;
    const r = run(env);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/skipped: IDF_PATH is not set/);
  });

  it('refuses a directory that is not an ESP-IDF tree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'teddy-not-idf-'));
    try {
      const r = run({ ...process.env, IDF_PATH: dir });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/not an ESP-IDF tree/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

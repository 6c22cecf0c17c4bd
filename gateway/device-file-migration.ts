/**
 * The device registry used to be a file, `devices.json`, in the data dir.
 * On the first start (of a gateway or of a `device` command) after the move
 * to Redis, its records are copied into the fleet's registry — without
 * overwriting a bear the registry already holds, since that one is newer —
 * and the file is renamed `devices.json.migrated` (kept, not deleted, so an
 * operator can check or roll back).
 */
import { readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceRecord, FleetDeviceRegistry } from './device-registry.js';

export const REGISTRY_FILE = 'devices.json';
const MIGRATED_SUFFIX = '.migrated';

export interface Migration {
  readonly file: string;
  readonly records: number;
  readonly added: number;
  readonly renamedTo: string;
}

/** Migrates `{dataDir}/devices.json` if there is one; undefined if there was nothing to do. */
export async function migrateDeviceFile(dataDir: string, registry: FleetDeviceRegistry): Promise<Migration | undefined> {
  const file = join(dataDir, REGISTRY_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as { version?: number; devices?: Record<string, DeviceRecord> };
  if (parsed.version !== 1 || typeof parsed.devices !== 'object' || parsed.devices === null) {
    throw new Error(`${file}: not a version 1 device registry; move it away or fix it`);
  }
  const added = await registry.importRecords(parsed.devices);
  const renamedTo = await freeName(`${file}${MIGRATED_SUFFIX}`);
  await rename(file, renamedTo);
  return { file, records: Object.keys(parsed.devices).length, added, renamedTo };
}

/** `path`, or `path.1`, `path.2`… if taken (an earlier migration's file is never overwritten). */
async function freeName(path: string): Promise<string> {
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? path : `${path}.${i}`;
    try {
      await stat(candidate);
    } catch {
      return candidate;
    }
  }
}

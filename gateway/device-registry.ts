/**
 * The device registry: which bears may connect, each with the scrypt hash of
 * its secret (never the secret). One JSON file in the data directory,
 * replaced atomically on every change, re-read when another process (the
 * CLI's `device add`) changed it, so a running gateway sees new bears without
 * a restart.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isValidDeviceId } from '../protocol/index.js';
import { writeFileAtomic } from '../infra/atomic-file.js';

/** The registry's file name in the gateway's data directory. */
export const REGISTRY_FILE = 'devices.json';

export interface DeviceRecord {
  /** `scrypt$N$r$p$salt$hash`, salt and hash base64url. */
  readonly hash: string;
  readonly createdAt: string;
  /** SHA-256 (hex) of the one client certificate this bear may log in with instead of its secret. */
  readonly certSha256?: string;
}

export interface AddOptions {
  /** Pin this client certificate (./tls-certificates.ts issueDeviceCertificate). */
  readonly certSha256?: string;
}

export interface DeviceRegistry {
  /**
   * Enrols (or re-keys) a bear; generates a secret when none is given. Returns the secret once.
   * Re-keying drops a pinned certificate unless `options` pins one again.
   */
  add(id: string, secret?: string, options?: AddOptions): Promise<{ id: string; secret: string }>;
  /** True if the bear was enrolled. */
  remove(id: string): Promise<boolean>;
  list(): Promise<{ id: string; createdAt: string }[]>;
  lookup(id: string): Promise<DeviceRecord | undefined>;
  /** Recomputes scrypt: slow on purpose (tens of ms). Callers cache successes. */
  verify(record: DeviceRecord, secret: Uint8Array): Promise<boolean>;
}

interface RegistryFile {
  version: 1;
  devices: Record<string, DeviceRecord>;
}

// OWASP's minimum for scrypt: N=2^14 (about 16 MiB, tens of ms per check).
const SCRYPT = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;
const MIN_SECRET = 8;
const MAX_SECRET = 256;

export function createDeviceRegistry(path: string): DeviceRegistry {
  let devices: Record<string, DeviceRecord> = {};
  let loadedStamp = '';
  // Mutations are read-modify-write of one file; run them one at a time.
  let queue: Promise<unknown> = Promise.resolve();

  const refresh = async (): Promise<void> => {
    let stamp: string;
    try {
      const s = await stat(path);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      devices = {};
      loadedStamp = '';
      return;
    }
    if (stamp === loadedStamp) return;
    const parsed = JSON.parse(await readFile(path, 'utf8')) as RegistryFile;
    if (parsed.version !== 1 || typeof parsed.devices !== 'object') throw new Error(`${path}: not a version 1 device registry`);
    devices = parsed.devices;
    loadedStamp = stamp;
  };

  const mutate = <T>(change: (all: Record<string, DeviceRecord>) => T): Promise<T> => {
    const run = queue.then(async () => {
      await refresh();
      const next = { ...devices };
      const result = change(next);
      const file: RegistryFile = { version: 1, devices: next };
      await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
      devices = next;
      loadedStamp = '';
      return result;
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    async add(id, secret = randomBytes(24).toString('base64url'), options = {}) {
      if (!isValidDeviceId(id)) throw new RangeError('device id must be 1-64 characters of [A-Za-z0-9_-]');
      const length = Buffer.byteLength(secret);
      if (length < MIN_SECRET || length > MAX_SECRET) throw new RangeError(`secret must be ${MIN_SECRET}-${MAX_SECRET} bytes`);
      const hash = await hashSecret(Buffer.from(secret));
      await mutate((all) => {
        all[id] = { hash, createdAt: new Date().toISOString(), ...(options.certSha256 ? { certSha256: options.certSha256 } : {}) };
      });
      return { id, secret };
    },

    remove(id) {
      return mutate((all) => {
        const had = Object.hasOwn(all, id);
        delete all[id];
        return had;
      });
    },

    async list() {
      await refresh();
      return Object.entries(devices)
        .map(([id, r]) => ({ id, createdAt: r.createdAt }))
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    async lookup(id) {
      await refresh();
      return Object.hasOwn(devices, id) ? devices[id] : undefined;
    },

    async verify(record, secret) {
      const [scheme, n, r, p, salt, hash] = record.hash.split('$');
      if (scheme !== 'scrypt' || !salt || !hash) return false;
      const expected = Buffer.from(hash, 'base64url');
      const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, {
        N: Number(n), r: Number(r), p: Number(p),
      });
      return timingSafeEqual(actual, expected);
    },
  };
}

async function hashSecret(secret: Uint8Array): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, KEY_BYTES, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

function scryptAsync(secret: Uint8Array, salt: Uint8Array, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
